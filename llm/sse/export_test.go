package sse

// BufferCap returns the capacity of r's buffer, for tests of its bound.
func BufferCap(r *Reader) int { return cap(r.buf) }

// ReadRoom is what the buffer may hold beyond maxEvent.
const ReadRoom = readRoom
