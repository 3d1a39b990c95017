package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// retryPolicy says which answers are transient and how long to wait.
type retryPolicy struct {
	// Retries is how many times one request is repeated at most.
	Retries int
	// Base is the first backoff when the answer has no Retry-After; it
	// doubles each time, with jitter.
	Base time.Duration
	// Cap bounds every wait, Retry-After included, so that a server asking
	// for an hour does not hang a script.
	Cap time.Duration
}

// retryable reports whether a status is worth repeating: throttling and
// the gateway and availability errors. Repeating a PATCH is safe, the
// operation is idempotent (the contract says so for 503 explicitly).
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter reads Retry-After as seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// wait is the pause before retry number attempt (1-based).
func (p retryPolicy) wait(attempt int, h http.Header, now time.Time) time.Duration {
	d, ok := retryAfter(h, now)
	if !ok {
		d = p.Base << (attempt - 1)
		// Full jitter on the upper half, so that parallel workers that
		// failed together do not come back together.
		d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
	if d > p.Cap {
		d = p.Cap
	}
	return d
}

// retryNotice is told about each retry (for plain progress lines).
type retryNotice func(method, path string, status int, err error, wait time.Duration, attempt, of int)

// retryTransport repeats transient failures. The request keeps its
// X-Correlation-Id across attempts, so that the audit trail of whichever
// attempt the server acted on is found under the id licensesctl prints.
type retryTransport struct {
	base   http.RoundTripper
	policy retryPolicy
	sleep  func(context.Context, time.Duration) error
	notice retryNotice
	// attemptTimeout bounds one attempt (0: none).
	attemptTimeout time.Duration
	// retried counts the repeated requests, for the summary.
	retried atomic.Int64
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 && req.Body != nil {
			if req.GetBody == nil {
				return nil, errors.New("cannot repeat a request whose body cannot be read again")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		// Each attempt has its own deadline (the waits between attempts are
		// not part of it); the body keeps it until closed.
		var actx context.Context
		var cancel context.CancelFunc
		if t.attemptTimeout > 0 {
			actx, cancel = context.WithTimeout(req.Context(), t.attemptTimeout)
		} else {
			actx, cancel = context.WithCancel(req.Context())
		}
		res, err := t.base.RoundTrip(r.WithContext(actx))
		transient := (err == nil && retryable(res.StatusCode)) || (err != nil && req.Context().Err() == nil)
		if !transient || attempt >= t.policy.Retries {
			if err != nil {
				cancel()
				return nil, err
			}
			res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
			return res, nil
		}
		var h http.Header
		status := 0
		if res != nil {
			h, status = res.Header, res.StatusCode
			io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
		}
		cancel()
		d := t.policy.wait(attempt+1, h, time.Now())
		t.retried.Add(1)
		if t.notice != nil {
			t.notice(req.Method, req.URL.Path, status, err, d, attempt+2, t.policy.Retries+1)
		}
		if err := t.sleep(req.Context(), d); err != nil {
			return nil, err
		}
	}
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// api is the generated client with what every request carries.
type api struct {
	c         *gen.ClientWithResponses
	conn      Connection
	transport *retryTransport
}

// newAPI builds the client. The transport bounds each attempt; the
// http.Client has no timeout of its own, which would cut the retries
// short.
func newAPI(conn Connection, transport *retryTransport) (*api, error) {
	hc := &http.Client{Transport: transport}
	c, err := gen.NewClientWithResponses(strings.TrimRight(conn.URL, "/"), gen.WithHTTPClient(hc),
		gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("X-Tenant", conn.Tenant)
			r.Header.Set("Authorization", "Bearer "+conn.Token)
			r.Header.Set("User-Agent", "licensesctl")
			return nil
		}))
	if err != nil {
		return nil, err
	}
	return &api{c: c, conn: conn, transport: transport}, nil
}

// correlation gives a request a fresh X-Correlation-Id and reports it, so
// that every failure can name the id `licensesctl audit
// --correlation-id` finds.
func correlation() (gen.RequestEditorFn, string) {
	id := uuid.NewString()
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Correlation-Id", id)
		return nil
	}, id
}

// APIError is a 4xx or 5xx answer with the published error body.
type APIError struct {
	Method, Path  string
	Status        int
	Body          *gen.ErrorResponse
	CorrelationID string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body != nil && e.Body.Description != nil && *e.Body.Description != "" {
		msg += ": " + *e.Body.Description
	}
	return msg
}

// PropertyErrors lists "property: description" lines of the body.
func (e *APIError) PropertyErrors() []string {
	var out []string
	if e.Body == nil || e.Body.Errors == nil {
		return nil
	}
	for _, pe := range *e.Body.Errors {
		name := ""
		if pe.PropertyName != nil {
			name = *pe.PropertyName
		}
		var descs []string
		if pe.Description != nil {
			descs = *pe.Description
		}
		if len(descs) == 0 {
			descs = []string{"(no description)"}
		}
		for _, d := range descs {
			if name != "" {
				out = append(out, name+": "+d)
			} else {
				out = append(out, d)
			}
		}
	}
	return out
}

// NetworkError is a request that got no answer (after the retries).
type NetworkError struct {
	Method, Path  string
	CorrelationID string
	Err           error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s %s: no answer: %v", e.Method, e.Path, e.Err)
}
func (e *NetworkError) Unwrap() error { return e.Err }

// answer turns a generated call's result into an error unless its status
// is 200. The correlation id comes from the answer (the server echoes
// ours), or is ours when there was no answer. got is called only when
// there was an answer.
func answer(method, path, sent string, err error, got func() (int, []byte, *http.Response)) (string, error) {
	if err != nil {
		return sent, &NetworkError{Method: method, Path: path, CorrelationID: sent, Err: err}
	}
	status, body, hres := got()
	cid := sent
	if hres != nil {
		if h := hres.Header.Get("X-Correlation-Id"); h != "" {
			cid = h
		}
	}
	if status == http.StatusOK {
		return cid, nil
	}
	ae := &APIError{Method: method, Path: path, Status: status, CorrelationID: cid}
	var eb gen.ErrorResponse
	if json.Unmarshal(body, &eb) == nil && eb.StatusCode != 0 {
		ae.Body = &eb
		if eb.CorrelationId != nil && *eb.CorrelationId != "" {
			ae.CorrelationID = *eb.CorrelationId
		}
	}
	return ae.CorrelationID, ae
}

// printError prints an error for a person: the description, each
// property error and the correlation id to look up.
func printError(w io.Writer, err error) {
	var ae *APIError
	var ne *NetworkError
	switch {
	case errors.As(err, &ae):
		fmt.Fprintf(w, "Error: %v\n", ae)
		for _, line := range ae.PropertyErrors() {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if ae.CorrelationID != "" {
			fmt.Fprintf(w, "  correlation id: %s (licensesctl audit --correlation-id %s)\n", ae.CorrelationID, ae.CorrelationID)
		}
	case errors.As(err, &ne):
		fmt.Fprintf(w, "Error: %v\n  correlation id: %s\n", ne, ne.CorrelationID)
	default:
		fmt.Fprintf(w, "Error: %v\n", err)
	}
}
