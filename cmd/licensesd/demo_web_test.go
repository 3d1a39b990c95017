package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/auth"
)

// The demo's printout links the editor and the reference, and the tokens
// it prints are the ones the editor pre-fills (both signed with the key).
func TestDemoPrintoutLinksTheEditorAndTheReference(t *testing.T) {
	secret := strings.Repeat("k", 32)
	csp, reseller := demoTokens(secret)
	var out bytes.Buffer
	printDemo(&out, "http://127.0.0.1:1234", csp, reseller)
	for _, want := range []string{
		"http://127.0.0.1:1234/ui/", "http://127.0.0.1:1234/docs", "http://127.0.0.1:1234/openapi.yaml",
		"TOKEN=" + csp + "\n", "RESELLER_TOKEN=" + reseller + "\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printout lacks %q", want)
		}
	}
	v, err := auth.NewHS256Verifier(auth.HS256Config{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"csp": csp, "reseller": reseller} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("the %s token does not verify: %v", name, err)
		}
	}
}
