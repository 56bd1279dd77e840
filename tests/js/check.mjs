// The official ClickHouse JavaScript client (@clickhouse/client) against execlog serve's ClickHouse HTTP
// endpoint. Usage: node check.mjs URL DATABASE [USER PASSWORD]. Prints one JSON object of what it saw;
// tests/test_clickhouse_http_js.py asserts on it.
import { createClient } from '@clickhouse/client'

const [url, database, username = 'default', password = ''] = process.argv.slice(2)
// Defaults as a user gets them: response compression on (gzip), JSON formats.
const client = createClient({ url, database, username, password, request_timeout: 60000 })
const out = {}
try {
  out.ping = (await client.ping()).success
  const services = await client.query({
    query: 'SELECT ServiceName, count() AS spans FROM otel_traces GROUP BY ServiceName ORDER BY ServiceName',
    format: 'JSONEachRow',
  })
  out.services = await services.json()
  const bound = await client.query({
    query: 'SELECT count() AS n FROM otel_traces WHERE ServiceName = {svc: String}',
    query_params: { svc: "billing' OR 1=1 --" },
    format: 'JSON',
  })
  out.bound = (await bound.json()).data
  const meta = await client.query({ query: 'SELECT 1 AS one, \'a\\tb\' AS s', format: 'JSONCompactEachRowWithNamesAndTypes' })
  out.compact = await meta.json()
  // A large result, read as a stream of rows.
  const stream = (await client.query({ query: 'SELECT number FROM numbers(500000)', format: 'JSONCompactEachRow' })).stream()
  let rows = 0
  for await (const chunk of stream) rows += chunk.length
  out.streamed_rows = rows
  try {
    await client.command({ query: 'DROP TABLE otel_traces' })
    out.drop = 'accepted'
  } catch (err) {
    out.drop = { code: err.code, type: err.type, message: err.message }
  }
  try {
    await client.query({ query: "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')", format: 'JSON' })
    out.url = 'accepted'
  } catch (err) {
    out.url = { code: err.code, type: err.type }
  }
} catch (err) {
  out.error = { message: err.message, code: err.code, type: err.type }
} finally {
  await client.close()
}
console.log(JSON.stringify(out))
