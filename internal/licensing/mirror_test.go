package licensing

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestLastPerUser(t *testing.T) {
	a, b, c := uuid.MustParse(userA), uuid.MustParse(userB), uuid.MustParse(customerA)
	u := func(id uuid.UUID, name string) MirroredUser {
		return MirroredUser{User: User{ID: id, DisplayName: name}}
	}
	tests := []struct {
		name string
		in   []MirroredUser
		want []MirroredUser
	}{
		{"none", nil, []MirroredUser{}},
		{"distinct ids keep their order", []MirroredUser{u(b, "b"), u(a, "a")}, []MirroredUser{u(b, "b"), u(a, "a")}},
		{"the last entry of an id wins at its first place", []MirroredUser{u(a, "a1"), u(b, "b"), u(a, "a2"), u(c, "c"), u(a, "a3")},
			[]MirroredUser{u(a, "a3"), u(b, "b"), u(c, "c")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LastPerUser(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LastPerUser = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckMirroredLicenses(t *testing.T) {
	e3, e5 := uuid.MustParse(skuE3), uuid.MustParse(otherSKU)
	tests := []struct {
		name  string
		in    []License
		props []string
	}{
		{"none", nil, nil},
		{"distinct SKUs", []License{{SKUID: e3, Total: 3, Suspended: 1}, {SKUID: e5}}, nil},
		{"consumed is not checked (it is counted)", []License{{SKUID: e3, Consumed: -5}}, nil},
		{"a SKU twice", []License{{SKUID: e3}, {SKUID: e5}, {SKUID: e3}}, []string{"licenses[2].skuId"}},
		{"negative counts", []License{{SKUID: e3, Total: -1, Suspended: -2}}, []string{"licenses[0].totalLicenses", "licenses[0].suspendedLicenses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMirroredLicenses(tt.in)
			if tt.props == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != Invalid || !reflect.DeepEqual(propertyNames(e), tt.props) {
				t.Fatalf("CheckMirroredLicenses = %v, want Invalid naming %v", err, tt.props)
			}
		})
	}
}

func TestCheckOutcome(t *testing.T) {
	for _, tt := range []struct {
		status Status
		ok     bool
	}{{StatusSucceeded, true}, {StatusFailed, true}, {StatusProcessing, false}, {"Succeeded", false}, {"", false}} {
		if err := CheckOutcome(tt.status); (err == nil) != tt.ok || (err != nil && ErrorCode(err) != Invalid) {
			t.Errorf("CheckOutcome(%q) = %v, want ok %v", tt.status, err, tt.ok)
		}
	}
}

func TestForeignUsersNamesAFew(t *testing.T) {
	ids := make([]uuid.UUID, 5)
	for i := range ids {
		ids[i] = uuid.New()
	}
	err := ForeignUsers(uuid.MustParse(customerA), ids)
	e, ok := err.(*Error)
	if !ok || e.Code != Conflict {
		t.Fatalf("ForeignUsers = %v, want Conflict", err)
	}
	for i, id := range ids {
		if shown := strings.Contains(e.Message, id.String()); shown != (i < 3) {
			t.Errorf("id %d shown %v, want only the first 3 shown", i, shown)
		}
	}
	if !strings.Contains(e.Message, "and 2 more") {
		t.Errorf("message %q does not count the rest", e.Message)
	}
}
