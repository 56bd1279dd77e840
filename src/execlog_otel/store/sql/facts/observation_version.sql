-- Which observation of an execution is its state (execlog_executions' ReplacingMergeTree version): the latest
-- attempt's, then within an attempt the one that ended last, and a root over a live-state marker ending in the
-- same 131 µs. A busy worker can end attempt 1's root after attempt 2 has started (a retry is sent before the
-- failed run's last signal); ordered by end time alone, that late root replaced the newer attempt's state.
-- Layout: bit 63 set (above the plain end times in nanoseconds, < 2^62, of rows stored before migration 040),
-- attempt in bits 47-62, end time in units of 2^17 ns in bits 1-46 (to 2262, DateTime64(9)'s end), root in bit 0.
bitOr(bitOr(bitShiftLeft(toUInt64(1), 63), bitShiftLeft(toUInt64({fact.attempt_number}), 47)),
      bitOr(bitShiftLeft(intDiv(toUInt64(greatest(toUnixTimestamp64Nano(Timestamp) + Duration, 0)), 131072), 1),
            toUInt64(NOT IsMarker)))
