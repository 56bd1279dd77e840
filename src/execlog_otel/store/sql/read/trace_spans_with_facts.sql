-- A trace's spans (read/trace_spans.sql) with their derived facts (read/span_facts.sql) joined by key, as
-- one statement for statements that read them as a table (read/step_pages_fill.sql).
SELECT s.*, f.StepKind AS StepKind, f.StepStatus AS StepStatus, f.Connector AS Connector, f.Model AS Model,
       f.Tool AS Tool, f.InputTokens AS InputTokens, f.OutputTokens AS OutputTokens, f.TotalTokens AS TotalTokens,
       f.RootStatus AS RootStatus, f.AttemptNumber AS AttemptNumber, f.Input AS Input, f.Output AS Output,
       f.IsTransport AS IsTransport
FROM ({spans}) AS s
LEFT ANY JOIN ({facts}) AS f ON s.SpanId = f.SpanId AND s.StartNs = f.StartNs
