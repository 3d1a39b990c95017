// Command bench measures licensesd against its peers in one run (issue 16):
// bare net/http and bare Echo answering a JSON body of the same size,
// Stoplight Prism mocking api/openapi.yaml, and licensesd on SQLite (and on
// PostgreSQL when LICENSES_TEST_POSTGRES_URL is set) with real tokens and
// the full middleware chain. Each target runs as its own process with the
// same GOMAXPROCS, pinned to one CPU while the load generator (vegeta, as
// a library, closed loop: N workers each waiting for its answer) runs on
// the others. It also measures the disk's durable-commit limit in the same
// run, and writes a Markdown table to bench/results/ and the same figures to
// bench/results/latest.json.
//
// It is not part of `make test`: `make bench` runs the matrix, `make
// bench-smoke` a tiny one in seconds that asserts nothing about speed, only
// that every request of every target was answered as expected.
//
// The anchors are this same binary started as `bench serve-nethttp` and
// `bench serve-echo`, so that they are separate processes like the others.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve-nethttp":
			os.Exit(serveAnchor("nethttp", os.Args[2:]))
		case "serve-echo":
			os.Exit(serveAnchor("echo", os.Args[2:]))
		case "run":
			os.Exit(run(os.Args[2:]))
		}
	}
	fmt.Fprintln(os.Stderr, "usage: bench run [flags] | bench serve-nethttp|serve-echo -addr ADDR -size BYTES")
	os.Exit(2)
}
