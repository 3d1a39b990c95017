package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

func TestStatusOf_eachCodeHasOneStatus(t *testing.T) {
	tests := []struct {
		code licensing.Code
		want int
	}{
		{licensing.Invalid, 400}, {licensing.Unauthorized, 401}, {licensing.Forbidden, 403},
		{licensing.NotFound, 404}, {licensing.Conflict, 409}, {licensing.TooLarge, 413},
		{licensing.Unsupported, 415}, {licensing.Unavailable, 503}, {licensing.Internal, 500},
		{"SomethingNew", 500},
	}
	for _, tt := range tests {
		if got := statusOf(tt.code); got != tt.want {
			t.Errorf("statusOf(%s) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestPropertyPath_indexesArraysFromZero(t *testing.T) {
	tests := []struct {
		pointer []string
		want    string
	}{
		{[]string{"customerUserLicenses", "2", "skuId"}, "customerUserLicenses[2].skuId"},
		{[]string{"providerInstanceId"}, "providerInstanceId"},
		{[]string{"customerUserLicenses"}, "customerUserLicenses"},
		{nil, "body"},
	}
	for _, tt := range tests {
		if got := propertyPath(tt.pointer); got != tt.want {
			t.Errorf("propertyPath(%v) = %q, want %q", tt.pointer, got, tt.want)
		}
	}
}

// TestPanicIsA500ThatRevealsNothing registers a route that panics next to
// the API: the answer is the error body with no internals, and the log line
// carries the panic under the correlation id.
func TestPanicIsA500ThatRevealsNothing(t *testing.T) {
	var logs bytes.Buffer
	e, err := New(Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.GET("/boom", func(echo.Context) error { panic("secret internal detail") })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/boom", nil)
	req.Header.Set("X-Correlation-Id", "0b9c4d38-8a7e-4b8b-9c53-1b6b5bd5e0a1")
	e.ServeHTTP(rec, req)
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("the body reveals internals: %s", rec.Body)
	}
	var b gen.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.StatusCode != 500 ||
		b.CorrelationId == nil || *b.CorrelationId != "0b9c4d38-8a7e-4b8b-9c53-1b6b5bd5e0a1" {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), "0b9c4d38-8a7e-4b8b-9c53-1b6b5bd5e0a1") {
		t.Fatalf("the log should hold the panic under the correlation id: %s", logs.String())
	}
}
