-- A step's name: the name the SDK gave it, else its span name.
if(SpanAttributes[{attr.EXECUTION_NAME}] != '', SpanAttributes[{attr.EXECUTION_NAME}], SpanName)
