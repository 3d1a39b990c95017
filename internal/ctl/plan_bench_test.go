package ctl

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// BenchmarkMakePlan_10000Users plans a file of 10,000 users of one
// customer, each assigned one SKU and removed another: the planning
// itself, without the reads.
func BenchmarkMakePlan_10000Users(b *testing.B) {
	const n = 10000
	w := testWorld(0, nil)
	w.Licenses[custInst{tCust, tMS}] = licensesState{Index: newSKUIndex([]gen.CustomerUserLicense{
		{SkuId: tE3, Name: ptrTo("Microsoft 365 E3"), AvailableLicenses: ptrTo(int32(n / 2))},
		{SkuId: tEO1, Name: ptrTo("Exchange Online (Plan 1)"), AvailableLicenses: ptrTo(int32(0))},
	})}
	var in []InputRow
	for i := range n {
		id := uuid.MustParse(fmt.Sprintf("1a2b3c4d-0000-4000-8000-%012d", 100000+i))
		upn := fmt.Sprintf("bench%d@x.test", i)
		w.Users[userRefKey{tCust, tMS, upn}] = userState{ID: id, UPN: upn}
		w.Held[userKey{tCust, tMS, id}] = heldState{Held: map[uuid.UUID]bool{tEO1: true}}
		in = append(in,
			InputRow{N: 2*i + 1, CustomerID: tCust.String(), ProviderInstanceID: tMS.String(), User: upn, SKU: "Microsoft 365 E3", Action: "assign"},
			InputRow{N: 2*i + 2, CustomerID: tCust.String(), ProviderInstanceID: tMS.String(), User: upn, SKU: "Exchange Online (Plan 1)", Action: "remove"})
	}
	b.ReportAllocs()
	for b.Loop() {
		p := MakePlan(parseRows(in), w)
		if len(p.Waves[1]) != n/2 {
			b.Fatalf("%d users to apply, want %d (half lack a seat)", len(p.Waves[1]), n/2)
		}
	}
}
