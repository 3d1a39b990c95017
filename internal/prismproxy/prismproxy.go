//go:build unix

// Package prismproxy runs Stoplight Prism as a validation proxy in front of a
// server under test, so that a validator we did not write checks every
// request and response against api/openapi.yaml, and fails the test on any
// violation.
//
// It is test support: Start binds 127.0.0.1 only, waits (bounded) until
// Prism listens, and stops Prism's whole process group in t.Cleanup.
//
//	p := prismproxy.Start(t, prismproxy.Bin(t), "../../api/openapi.yaml", server.URL)
//	client, _ := gen.NewClientWithResponses(p.URL, gen.WithHTTPClient(p.Client()))
//
// How Prism 5.14 signals violations (read off its output, see the tests):
//
//   - By default (no --errors) Prism forwards every request, even an invalid
//     one, and returns the upstream's response unchanged, adding a
//     `sl-violations` header: a JSON array of {location, severity, code,
//     message}, where location[0] is "request" or "response". It also logs
//     "[VALIDATOR] ... Violation: request.header ..." lines.
//   - With --errors (Options.Errors) Prism answers a request that violates
//     the spec itself, without forwarding it: 422 (invalid parameters or
//     body), 401 (no credentials for the security scheme), 404/405 (no such
//     path or method), each as application/problem+json with a `type` under
//     https://stoplight.io/prism/errors#. A response that violates the spec
//     is replaced by a 500 problem+json carrying `sl-violations`.
//
// The default mode is the one the end-to-end suite wants: it must send
// deliberately invalid requests (a missing X-Tenant, no token, a malformed
// id) to check that the server answers them with the published error body,
// and with --errors those requests would never reach the server. Such a
// request is marked with ExpectInvalidRequest; its request violations are
// then expected, while its response is still checked. Every other request
// or response violation fails the test.
package prismproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvBin is the environment variable that names the Prism executable;
// `make contract-test` sets it to tools/contract/node_modules/.bin/prism.
const EnvBin = "LICENSES_TEST_PRISM"

// Options tune Start. The zero value is the mode described in the package
// documentation.
type Options struct {
	// Errors passes --errors: Prism answers invalid requests itself and
	// replaces invalid responses by a 500. Use it only for suites that send
	// valid requests exclusively.
	Errors bool
	// AllowInvalidRequests makes request violations notes (t.Logf) instead
	// of failures, for suites that send many deliberately invalid requests
	// and would rather not mark each with ExpectInvalidRequest. Response
	// violations still fail the test.
	AllowInvalidRequests bool
	// ReadyTimeout bounds how long Start waits for Prism to listen
	// (default 60s; Prism takes a few seconds to start on a cold machine).
	ReadyTimeout time.Duration
	// StopTimeout bounds how long Cleanup waits after SIGTERM before it
	// sends SIGKILL to Prism's process group (default 5s).
	StopTimeout time.Duration
}

// Violation is one entry of Prism's sl-violations header.
type Violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code,omitempty"`
	Message  string   `json:"message"`
}

// InRequest reports whether the violation is about the request (as opposed
// to the response).
func (v Violation) InRequest() bool { return len(v.Location) > 0 && v.Location[0] == "request" }

func (v Violation) String() string {
	return fmt.Sprintf("%s %s: %s", v.Severity, strings.Join(v.Location, "."), v.Message)
}

// Proxy is a running Prism validation proxy.
type Proxy struct {
	// URL is the proxy's base URL (http://127.0.0.1:PORT); send requests
	// here instead of to the upstream.
	URL string

	t    testing.TB
	opts Options
	log  *syncBuffer

	mu sync.Mutex
	// flagged counts the Prism events the transport has seen (violations,
	// expected or not, and Prism-made answers), to compare with Prism's log.
	flagged int
}

// Bin returns the Prism executable named by LICENSES_TEST_PRISM, and skips
// the test with a hint when it is not set. It fails the test when the
// variable names a file that does not exist: someone asked for the check.
func Bin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvBin)
	if bin == "" {
		t.Skipf("%s is not set: the Prism contract check runs with `make contract-test` "+
			"(Prism needs Node 20; `make contract-tools` installs it under tools/contract)", EnvBin)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v (run `make contract-tools`)", EnvBin, bin, err)
	}
	return bin
}

// Start runs `prism proxy SPEC UPSTREAM` on a free port of 127.0.0.1 and
// returns once it listens. Prism is stopped in t.Cleanup; if the test
// failed, Prism's log is attached to it. The Prism log is also checked at
// cleanup for violations that did not pass through Client or Transport.
func Start(t testing.TB, prismBin, specPath, upstreamURL string, opts ...Options) *Proxy {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 5 * time.Second
	}
	spec, err := filepath.Abs(specPath)
	if err != nil {
		t.Fatalf("prismproxy: %v", err)
	}
	if _, err := os.Stat(spec); err != nil {
		t.Fatalf("prismproxy: spec: %v", err)
	}

	// A free port can be taken between our probe and Prism's bind; try again then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := start(t, prismBin, spec, upstreamURL, o)
		if err == nil {
			return p
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("prismproxy: %v", lastErr)
	return nil
}

var errAddrInUse = errors.New("address in use")

func start(t testing.TB, prismBin, spec, upstreamURL string, o Options) (*Proxy, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"proxy", spec, upstreamURL,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		// Return the server's responses as it made them: no CORS headers,
		// no preflight answered by Prism.
		"--cors=false",
		// Violations are logged at info level and above.
		"--verboseLevel", "info",
	}
	if o.Errors {
		args = append(args, "--errors")
	}
	cmd := exec.Command(prismBin, args...)
	cmd.SysProcAttr = procAttr()
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", prismBin, err)
	}

	p := &Proxy{URL: "http://127.0.0.1:" + strconv.Itoa(port), t: t, opts: o, log: &syncBuffer{}}
	ready := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		once := sync.Once{}
		for sc.Scan() {
			line := ansi.ReplaceAllString(sc.Text(), "")
			p.log.WriteLine(line)
			if strings.Contains(line, "Prism is listening on") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-readDone // Wait closes the pipe; read it to the end first.
		exited <- cmd.Wait()
	}()

	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(o.StopTimeout):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}

	select {
	case <-ready:
	case err := <-exited:
		logText := p.log.String()
		if strings.Contains(logText, "EADDRINUSE") {
			return nil, errAddrInUse
		}
		return nil, fmt.Errorf("prism exited before listening (%v); its output:\n%s", err, tail(logText, 40))
	case <-time.After(o.ReadyTimeout):
		stop()
		return nil, fmt.Errorf("prism did not listen within %s; its output:\n%s", o.ReadyTimeout, tail(p.log.String(), 40))
	}

	t.Cleanup(func() {
		stop()
		p.checkLog()
		if t.Failed() {
			t.Logf("prism proxy log (%s → %s):\n%s", p.URL, upstreamURL, tail(p.log.String(), 200))
		}
	})
	return p, nil
}

// Log returns what Prism has printed so far, without colors.
func (p *Proxy) Log() string { return p.log.String() }

// Client returns an HTTP client (30s timeout) whose requests are checked
// by Transport.
func (p *Proxy) Client() *http.Client {
	return &http.Client{Transport: p.Transport(nil), Timeout: 30 * time.Second}
}

type expectInvalidKey struct{}

// ExpectInvalidRequest marks the requests made with ctx as deliberately
// violating the spec (to test the server's 400/401/404/405 answers): their
// request violations do not fail the test. Their responses are still checked.
func ExpectInvalidRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, expectInvalidKey{}, true)
}

func invalidExpected(ctx context.Context) bool {
	v, _ := ctx.Value(expectInvalidKey{}).(bool)
	return v
}

// Transport wraps base (http.DefaultTransport when nil) and fails the test
// (t.Errorf, the test goes on) when Prism reports a violation for a request
// sent through it. The response is returned unchanged.
func (p *Proxy) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		res, err := base.RoundTrip(req)
		if err != nil {
			return res, err
		}
		p.check(req, res)
		return res, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// check reports the violations Prism signalled on res.
func (p *Proxy) check(req *http.Request, res *http.Response) {
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), res.StatusCode)
	var problems []string

	if h := res.Header.Get("sl-violations"); h != "" {
		var vs []Violation
		if err := json.Unmarshal([]byte(h), &vs); err != nil {
			problems = append(problems, fmt.Sprintf("unreadable sl-violations header %q: %v", h, err))
		}
		p.count(len(vs))
		var notes []string
		for _, v := range vs {
			if v.InRequest() {
				switch {
				case invalidExpected(req.Context()):
				case p.opts.AllowInvalidRequests:
					notes = append(notes, "request "+v.String())
				default:
					problems = append(problems, "request "+v.String())
				}
				continue
			}
			problems = append(problems, "response "+v.String())
		}
		if len(notes) > 0 {
			p.t.Logf("prism: %s: request violations (allowed):\n  %s", what, strings.Join(notes, "\n  "))
		}
	}

	// With --errors (or when the upstream cannot be reached) Prism answers
	// itself, as problem+json; our server never uses that media type.
	if isProblemJSON(res.Header.Get("Content-Type")) {
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			var pr struct {
				Type, Title string
				Validation  []Violation
			}
			if json.Unmarshal(body, &pr) == nil && strings.HasPrefix(pr.Type, prismErrors) {
				p.count(1)
				problems = append(problems, fmt.Sprintf("Prism answered instead of the server: %s (%s)",
					pr.Title, strings.TrimPrefix(pr.Type, prismErrors)))
				for _, v := range pr.Validation {
					problems = append(problems, "  "+v.String())
				}
				if invalidExpected(req.Context()) && p.opts.Errors {
					problems = append(problems, "  (an ExpectInvalidRequest request never reaches the server with Options.Errors)")
				}
			}
		}
	}

	if len(problems) > 0 {
		p.t.Errorf("prism: %s violates the spec:\n  %s", what, strings.Join(problems, "\n  "))
	}
}

const prismErrors = "https://stoplight.io/prism/errors#"

func isProblemJSON(ct string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/problem+json")
}

func (p *Proxy) count(n int) {
	p.mu.Lock()
	p.flagged += n
	p.mu.Unlock()
}

// logEvent matches the log lines of the events check counts: a violation
// (one line per sl-violations entry), or a request Prism answered itself.
var logEvent = regexp.MustCompile(`Violation: |Request terminated with error`)

// checkLog fails the test when Prism's log has more violations than the
// transport saw: requests sent around Client/Transport still count.
func (p *Proxy) checkLog() {
	var lines []string
	for _, l := range strings.Split(p.log.String(), "\n") {
		if logEvent.MatchString(l) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	p.mu.Lock()
	seen := p.flagged
	p.mu.Unlock()
	if len(lines) > seen {
		p.t.Errorf("prism logged %d violation(s) but only %d came through prismproxy's transport; "+
			"send every request through Proxy.Client or Proxy.Transport. Prism's lines:\n  %s",
			len(lines), seen, strings.Join(lines, "\n  "))
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is the Prism log, written by the reader goroutine and read by
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	b.b.WriteString(s)
	b.b.WriteByte('\n')
	b.mu.Unlock()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
