-- The event a log record is (the EventName column, else the event.name attribute older SDKs wrote).
if(EventName != '', EventName, LogAttributes[{attr.EVENT_NAME}])
