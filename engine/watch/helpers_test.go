package watch_test

import (
	"io"
	"net/http"
)

// writer writes a scripted stream.
type writer struct{ w http.ResponseWriter }

func (w writer) write(s string) { io.WriteString(w.w, s) }

// handlerFunc serves a scripted event stream, then holds it open until
// the client goes.
func handlerFunc(script func(writer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		script(writer{w})
		<-r.Context().Done()
	})
}
