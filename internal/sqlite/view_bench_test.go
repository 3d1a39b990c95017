package sqlite

import (
	"testing"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// BenchmarkUserViewStatement measures the view's statement itself, as a
// cache miss and the writer's read under the lock run it (the cached
// UserView is BenchmarkUserReads/view): the storetest fixture's Ada, 5
// licenses of which she holds 2.
func BenchmarkUserViewStatement(b *testing.B) {
	db, ids := openFixture(b)
	ref := licensing.UserRef{Tenant: ids.Tenant, CustomerID: ids.Fabrikam, UserID: ids.Ada, ProviderInstanceID: ids.Microsoft}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := userView(b.Context(), pooled{db.readStmts}, ref); err != nil || len(v.Seats.Licenses) != 5 || len(v.Seats.Held) != 2 {
			b.Fatalf("userView: %+v, %v", v, err)
		}
	}
}
