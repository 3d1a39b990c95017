package licensing_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// BenchmarkDecide is the seat decision of a PATCH: 10 items against a
// customer with 50 SKUs.
func BenchmarkDecide(b *testing.B) {
	seats := licensing.Seats{Held: map[uuid.UUID]bool{}}
	var want []licensing.Selection
	for i := range 50 {
		id := uuid.New()
		seats.Licenses = append(seats.Licenses, licensing.License{SKUID: id, Name: "SKU " + id.String()[:8], Total: 100, Consumed: 10})
		if i%5 == 0 {
			seats.Held[id] = true
		}
		if i < 10 {
			want = append(want, licensing.Selection{SKUID: id, Selected: i%2 == 0})
		}
	}
	decide := licensing.Decide(licensing.ProviderInstance{Provider: "microsoft"}, want)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decide(seats); err != nil {
			b.Fatal(err)
		}
	}
}
