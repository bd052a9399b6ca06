import { describe, expect, it } from 'vitest'
import { SseParser } from '../app/lib/sse-parser.js'

describe('SseParser', () => {
  it('dispatches an event at the blank line, with its type and data', () => {
    const parser = new SseParser()
    expect(parser.push('event: transfer\ndata: {"id":"1"}\n')).toEqual([])
    expect(parser.push('\n')).toEqual([{ type: 'transfer', data: '{"id":"1"}', lastEventId: '' }])
  })

  it('joins multi-line data with newlines and defaults the type to message', () => {
    const parser = new SseParser()
    expect(parser.push('data: one\ndata:two\ndata\n\n')).toEqual([
      { type: 'message', data: 'one\ntwo\n', lastEventId: '' },
    ])
  })

  it('reads CRLF and lone CR line ends, even a CRLF cut between two chunks', () => {
    const parser = new SseParser()
    expect(parser.push('event: activity\r\ndata: a\r')).toEqual([])
    // The CR above could have been a line end on its own: only the LF tells.
    expect(parser.push('\n\r\n')).toEqual([{ type: 'activity', data: 'a', lastEventId: '' }])
    expect(parser.push('data: b\r\rdata: c\r')).toEqual([{ type: 'message', data: 'b', lastEventId: '' }])
    expect(parser.push('\r')).toEqual([{ type: 'message', data: 'c', lastEventId: '' }])
  })

  it('handles an event split at every character', () => {
    const parser = new SseParser()
    const text = 'id: 7\r\nevent: activity\r\ndata: {"seq":7}\r\n\r\n'
    const events = [...text].flatMap((ch) => parser.push(ch))
    expect(events).toEqual([{ type: 'activity', data: '{"seq":7}', lastEventId: '7' }])
  })

  it('counts comments (heartbeats) and dispatches nothing for them', () => {
    const parser = new SseParser()
    expect(parser.push(': keep-alive\n\n:\n\n')).toEqual([])
    expect(parser.comments).toBe(2)
  })

  it('keeps the last id across events, ignores an id with NUL, reads retry', () => {
    const parser = new SseParser()
    const events = parser.push(
      'id: 1\ndata: x\n\ndata: y\n\nid: a\0b\ndata: z\n\nretry: 5000\nretry: soon\n\n',
    )
    expect(events.map((e) => [e.data, e.lastEventId])).toEqual([
      ['x', '1'],
      ['y', '1'],
      ['z', '1'],
    ])
    expect(parser.retry).toBe(5000)
  })

  it('drops an event type with no data, and unknown fields', () => {
    const parser = new SseParser()
    expect(parser.push('event: transfer\n\nfoo: bar\ndata: d\n\n')).toEqual([
      { type: 'message', data: 'd', lastEventId: '' },
    ])
  })

  it('strips one leading space only, and a BOM at the start of the stream', () => {
    const parser = new SseParser()
    expect(parser.push('\uFEFFdata:  two spaces\n\n')).toEqual([
      { type: 'message', data: ' two spaces', lastEventId: '' },
    ])
  })

  it('drops an unfinished event when the stream ends', () => {
    const parser = new SseParser()
    parser.push('data: half')
    parser.end()
    expect(parser.push('\n\ndata: next\n\n')).toEqual([{ type: 'message', data: 'next', lastEventId: '' }])
  })
})

describe('SseParser line ends across chunks', () => {
  it('ends a line at a CR at once, and skips only one LF after it', () => {
    const parser = new SseParser()
    expect(parser.push('data: x\r')).toEqual([])
    expect(parser.push('\n')).toEqual([])
    // This LF is a line end of its own: the blank line that dispatches.
    expect(parser.push('\n')).toEqual([{ type: 'message', data: 'x', lastEventId: '' }])
  })
})
