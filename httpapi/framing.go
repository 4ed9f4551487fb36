package httpapi

import (
	"errors"
	"io"
	"net/http"
)

// Request framing (RFC 9112 §6.1, §11.2). A request that carries both
// Content-Length and Transfer-Encoding may be an attempt to smuggle a
// second request past a proxy that frames it by the other header; the
// server "MUST close the connection after responding to such a request".
// Go's server frames by Transfer-Encoding and removes Content-Length before
// a handler runs, so the two cases cannot be told apart here: every
// request with a Transfer-Encoding (only chunked is accepted) is answered
// and then its connection closed. So is any request whose body turns out
// to be malformed while it is read. A smuggled request behind either is
// never answered. (Go itself closes after the framing errors it detects
// before a handler: an invalid or repeated Content-Length, an unknown
// Transfer-Encoding, a body over the limit.)
func guardFraming(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 {
		return // HTTP/2 frames its own messages and has no such header
	}
	if len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &framedBody{ReadCloser: r.Body, h: w.Header()}
	}
}

// framedBody closes the connection after the answer if the body cannot
// be read to its end: a malformed chunk, or a body shorter than its
// Content-Length.
type framedBody struct {
	io.ReadCloser
	h http.Header
}

func (b *framedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.h.Set("Connection", "close")
	}
	return n, err
}
