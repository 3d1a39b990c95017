package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// staticBody is a JSON array of license items of about size bytes: the
// shape licensesd answers a user's licenses with, so that the anchors
// encode and send the same amount of work.
func staticBody(size int) []map[string]any {
	var out []map[string]any
	for {
		item := map[string]any{
			"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "name": "Office 365 E3", "isSelected": len(out)%2 == 0,
			"availableLicenses": 100, "totalLicenses": 1000, "consumedLicenses": 900, "suspendedLicenses": 0,
		}
		out = append(out, item)
		raw, _ := json.Marshal(out)
		if len(raw) >= size {
			return out
		}
	}
}

// serveAnchor serves GET /static with net/http or Echo until it has run
// for -lifetime (it stops by itself) or its parent closes stdin.
func serveAnchor(kind string, args []string) int {
	fs := flag.NewFlagSet("serve-"+kind, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	size := fs.Int("size", 512, "bytes of the JSON body")
	lifetime := fs.Duration("lifetime", 2*time.Hour, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !strings.HasPrefix(*addr, "127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "serve: only 127.0.0.1 addresses")
		return 2
	}
	body := staticBody(*size)
	var h http.Handler
	switch kind {
	case "nethttp":
		mux := http.NewServeMux()
		mux.HandleFunc("GET /static", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
		h = mux
	case "echo":
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.GET("/static", func(c echo.Context) error { return c.JSON(http.StatusOK, body) })
		h = e
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { time.Sleep(*lifetime); os.Exit(0) }()
	// The parent closes our stdin when it is done (or dies).
	go func() { _, _ = os.Stdin.Read(make([]byte, 1)); os.Exit(0) }()
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
