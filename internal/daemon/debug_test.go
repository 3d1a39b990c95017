package daemon

import "testing"

func TestLoopbackListenerRefusesOtherAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"[::1]:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.0.2.1:0", false},
		{"example.com:0", false},
		{"127.0.0.1", false},
	} {
		ln, err := loopbackListener(tc.addr, "pprof")
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.addr, err, tc.ok)
		}
		if ln != nil {
			ln.Close()
		}
	}
}
