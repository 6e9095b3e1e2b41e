package serve

import (
	"net/http"
	"net/http/pprof"
)

// DebugHandler serves Go's pprof profiles (/debug/pprof/...) to whoever
// presents adminToken, and to nobody when it is empty. It belongs on a
// listener of its own (council serve --debug-addr), never on the API's:
// a profile shows the process's memory and command line.
func DebugHandler(adminToken string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if adminToken == "" || match(bearer(r), []string{adminToken}) != 0 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="council debug"`)
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "admin_token_required",
				"the debug listener needs the admin token: send Authorization: Bearer <admin token>")
			return
		}
		mux.ServeHTTP(w, r)
	})
}
