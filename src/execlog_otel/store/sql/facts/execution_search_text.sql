-- What the listing's search matches, over an execlog_executions row: the request id, target record id,
-- target, event and name in one lower-case text (a line each, so a search cannot match across two of
-- them unless it holds a line break). Migration 024 indexes this expression (ngrams of 3, so a search
-- of 3 characters or more reads only the granules whose rows hold all its ngrams); the query must use
-- the same expression for the index to serve it.
lowerUTF8(concat(RequestId, '\n', TargetRecordId, '\n', Target, '\n', Event, '\n', Name))
