package daemon

import (
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/cloudcockpit-oss/userlicenses/internal/metrics"
)

// loopbackListener listens on addr, which must name a loopback address
// (127.0.0.0/8, ::1 or localhost): profiles and metrics reveal internals
// and are never served on a public interface.
func loopbackListener(addr, what string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s address %q: %w", what, addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%s address %q: only a loopback address (127.0.0.1, ::1, localhost) is allowed", what, addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for %s on %s: %w", what, addr, err)
	}
	return ln, nil
}

// pprofMux serves net/http/pprof's handlers, registered on our own mux
// rather than http.DefaultServeMux so that nothing else can expose them.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// sideServer serves the pprof or metrics handler on its own loopback
// listener until closed.
type sideServer struct {
	srv *http.Server
	ln  net.Listener
}

func startSide(ln net.Listener, h http.Handler) *sideServer {
	s := &sideServer{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		// A CPU profile takes as many seconds as asked for.
		WriteTimeout: 5 * time.Minute, IdleTimeout: time.Minute}}
	go func() { _ = s.srv.Serve(ln) }() // ends with close()
	return s
}

func (s *sideServer) close() error {
	if s == nil {
		return nil
	}
	return s.srv.Close()
}

// metricsListener listens for /metrics on addr, which must not be the API's
// own address: metrics are for the operator's scraper, not for callers.
func metricsListener(addr string, api net.Addr) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	if ln.Addr().String() == api.String() {
		ln.Close()
		return nil, fmt.Errorf("metrics address %q is the API's own", addr)
	}
	return ln, nil
}

// instrument builds the metrics and attaches the store's pools and
// group-commit batches to them.
func instrument(store licensing.Store) *metrics.Metrics {
	mx := metrics.New()
	if s, ok := store.(interface{ Pools() map[string]*sql.DB }); ok {
		for name, db := range s.Pools() {
			mx.AddSQLPool(name, db)
		}
	}
	if s, ok := store.(interface{ Pool() *pgxpool.Pool }); ok {
		mx.AddPgxPool("postgres", s.Pool())
	}
	if s, ok := store.(interface{ ViewCacheLookups() (uint64, uint64) }); ok {
		mx.AddViewCache("sqlite", s.ViewCacheLookups)
	}
	if s, ok := store.(interface{ ReadCacheLookups() (uint64, uint64) }); ok {
		mx.AddReadCache("sqlite", s.ReadCacheLookups)
	}
	if s, ok := store.(interface {
		ObserveBatches(func(int, time.Duration))
	}); ok {
		name := "sqlite"
		if _, pg := store.(interface{ Pool() *pgxpool.Pool }); pg {
			name = "postgres"
		}
		s.ObserveBatches(mx.BatchObserver(name))
	}
	return mx
}
