/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** `message` when the event had no `event:` field. */
  type: string
  data: string
  /** The last event id seen on the stream, as of this event. */
  lastEventId: string
}

/**
 * An incremental parser of a `text/event-stream` body (the WHATWG algorithm): feed it the decoded
 * text as it arrives, in chunks cut anywhere, and it returns the events completed so far. It
 * handles LF, CR and CRLF line ends (a CRLF may be cut between two chunks), multi-line `data:`,
 * `event:`, `id:`, `retry:` and comment lines (`:` heartbeats, which dispatch nothing).
 */
export class SseParser {
  private buffer = ''
  private data: string[] = []
  private type = ''
  private id = ''
  private started = false
  private afterCr = false
  /** The `retry:` the server asked for, in ms. */
  retry: number | undefined
  /** Comment lines seen: the node's heartbeats. */
  comments = 0

  push(chunk: string): SseEvent[] {
    if (!this.started && chunk.length > 0) {
      this.started = true
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
    }
    // A CR ended the last chunk: an LF starting this one is the second half of that CRLF.
    if (this.afterCr && chunk.length > 0) {
      this.afterCr = false
      if (chunk.startsWith('\n')) chunk = chunk.slice(1)
    }
    this.buffer += chunk
    const events: SseEvent[] = []
    let start = 0
    const lineEnd = /[\r\n]/g
    for (;;) {
      lineEnd.lastIndex = start
      const match = lineEnd.exec(this.buffer)
      if (!match) break
      const at = match.index
      const event = this.line(this.buffer.slice(start, at))
      if (event) events.push(event)
      if (this.buffer[at] === '\r') {
        if (at + 1 === this.buffer.length) this.afterCr = true
        start = this.buffer[at + 1] === '\n' ? at + 2 : at + 1
      } else {
        start = at + 1
      }
    }
    this.buffer = this.buffer.slice(start)
    return events
  }

  /** The stream ended: a last event without its blank line is dropped, as the standard says. */
  end(): void {
    this.buffer = ''
    this.data = []
    this.type = ''
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) {
      this.comments++
      return undefined
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.type = value
        break
      case 'data':
        this.data.push(value)
        break
      case 'id':
        if (!value.includes('\0')) this.id = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value)
        break
      default:
      // Other fields are ignored.
    }
    return undefined
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data
    const type = this.type
    this.data = []
    this.type = ''
    if (data.length === 0) return undefined
    return { type: type === '' ? 'message' : type, data: data.join('\n'), lastEventId: this.id }
  }
}
