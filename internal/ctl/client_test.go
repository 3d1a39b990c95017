package ctl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"2", 2 * time.Second, true},
		{"0", 0, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"-3", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		got, ok := retryAfter(h, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Retry-After %q = %v %v, want %v %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

// scripted answers with the statuses in turn (then 200) and records what
// it was sent.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []string
	ids      []string
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := []byte{}
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
	}
	s.bodies = append(s.bodies, string(b))
	s.ids = append(s.ids, r.Header.Get("X-Correlation-Id"))
	rec := httptest.NewRecorder()
	status := http.StatusOK
	if n := len(s.bodies) - 1; n < len(s.statuses) {
		status = s.statuses[n]
		if n < len(s.headers) {
			for k, v := range s.headers[n] {
				rec.Header()[k] = v
			}
		}
	}
	rec.WriteHeader(status)
	return rec.Result(), nil
}

func TestRetryTransport(t *testing.T) {
	ra := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	tests := []struct {
		name       string
		statuses   []int
		headers    []http.Header
		retries    int
		wantStatus int
		wantWaits  []time.Duration
	}{
		{"honoursRetryAfterThenSucceeds", []int{503, 429}, []http.Header{ra("2"), ra("1")}, 4, 200, []time.Duration{2 * time.Second, time.Second}},
		{"capsALongRetryAfter", []int{503}, []http.Header{ra("3600")}, 4, 200, []time.Duration{5 * time.Second}},
		{"givesUpAfterTheRetries", []int{502, 504, 503}, nil, 2, 503, nil},
		{"doesNotRetryOtherErrors", []int{500}, nil, 4, 500, []time.Duration{}},
		{"doesNotRetryRefusals", []int{400}, nil, 4, 400, []time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := &scripted{statuses: tt.statuses, headers: tt.headers}
			var waits []time.Duration
			rt := &retryTransport{base: base, policy: retryPolicy{Retries: tt.retries, Base: 100 * time.Millisecond, Cap: 5 * time.Second},
				sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			req, _ := http.NewRequest(http.MethodPatch, "http://127.0.0.1/x", bytes.NewReader([]byte(`{"a":1}`)))
			req.Header.Set("X-Correlation-Id", "c-1")
			res, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantWaits != nil && (len(waits) != len(tt.wantWaits) || len(waits) > 0 && waits[0] != tt.wantWaits[0]) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if tt.wantWaits == nil && len(waits) != tt.retries {
				t.Errorf("%d waits, want %d (the retries)", len(waits), tt.retries)
			}
			for i := range base.bodies {
				if base.bodies[i] != `{"a":1}` || base.ids[i] != "c-1" {
					t.Errorf("attempt %d sent body %q id %q; every attempt must carry the same body and correlation id", i+1, base.bodies[i], base.ids[i])
				}
			}
			if int(rt.retried.Load()) != len(waits) {
				t.Errorf("retried %d, waited %d times", rt.retried.Load(), len(waits))
			}
		})
	}
}

func TestRetryTransport_backoffGrowsAndIsCapped(t *testing.T) {
	p := retryPolicy{Base: time.Second, Cap: 5 * time.Second}
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 6: 5 * time.Second} {
		for range 20 {
			d := p.wait(attempt, nil, time.Now())
			if d > max || d < max/2 && max < p.Cap {
				t.Fatalf("attempt %d waits %v, want within [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
}

func TestRetryTransport_stopsWaitingWhenTheContextEnds(t *testing.T) {
	base := &scripted{statuses: []int{503, 503}}
	rt := &retryTransport{base: base, policy: retryPolicy{Retries: 3, Base: time.Hour, Cap: time.Hour}, sleep: sleepCtx}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/x", nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// slowThenOK hangs the first attempt until its context ends, then answers.
type slowThenOK struct{ n int }

func (s *slowThenOK) RoundTrip(r *http.Request) (*http.Response, error) {
	s.n++
	if s.n == 1 {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	rec := httptest.NewRecorder()
	rec.WriteString("ok")
	return rec.Result(), nil
}

func TestRetryTransport_eachAttemptHasItsOwnDeadline(t *testing.T) {
	base := &slowThenOK{}
	rt := &retryTransport{base: base, policy: retryPolicy{Retries: 2, Base: time.Millisecond, Cap: time.Millisecond}, sleep: sleepCtx, attemptTimeout: 50 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/x", nil)
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("the hung attempt was not retried: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(b) != "ok" || base.n != 2 {
		t.Errorf("body %q err %v after %d attempts", b, err, base.n)
	}
}
