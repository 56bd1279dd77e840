-- The latest attempt's duration so far: until now while it runs (AttemptEnd is zero), else until its end.
if(AttemptEnd = toDateTime64(0, 9), toUnixTimestamp64Nano(now64(9)), toUnixTimestamp64Nano(AttemptEnd))
    - toUnixTimestamp64Nano(AttemptStart)
