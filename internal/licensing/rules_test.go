package licensing

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestLicense_availableNeverBelowZero(t *testing.T) {
	tests := []struct {
		name                       string
		total, suspended, consumed int32
		want                       int32
	}{
		{"free seats", 10, 1, 6, 3},
		{"all consumed", 5, 0, 5, 0},
		{"suspension eats the rest", 5, 3, 4, 0},
		{"nothing bought", 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := License{Total: tt.total, Suspended: tt.suspended, Consumed: tt.consumed}
			if got := l.Available(); got != tt.want {
				t.Fatalf("Available() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlanChanges(t *testing.T) {
	e3, eo, teams, unknown := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	seats := Seats{
		Licenses: []License{
			{SKUID: e3, Name: "Microsoft 365 E3", Total: 10, Suspended: 1, Consumed: 6},
			{SKUID: eo, Name: "Exchange Online (Plan 1)", Total: 5, Consumed: 5},
			{SKUID: teams, Name: "Teams Essentials", Total: 2, Consumed: 1},
		},
		Held: map[uuid.UUID]bool{eo: true, teams: true},
	}
	tests := []struct {
		name     string
		want     []Selection
		changes  []Change
		badProps []string
	}{
		{
			name:    "selecting a SKU the user lacks assigns it",
			want:    []Selection{{SKUID: e3, Selected: true}},
			changes: []Change{{SKUID: e3, SKUName: "Microsoft 365 E3", Assign: true}},
		},
		{
			name:    "unselecting a held SKU removes it",
			want:    []Selection{{SKUID: eo, Selected: false}},
			changes: []Change{{SKUID: eo, SKUName: "Exchange Online (Plan 1)", Assign: false}},
		},
		{
			name: "selecting a held SKU needs no seat and changes nothing",
			want: []Selection{{SKUID: eo, Selected: true}},
		},
		{
			name: "unselecting a SKU the user lacks changes nothing",
			want: []Selection{{SKUID: e3, Selected: false}},
		},
		{
			name:     "a SKU the customer has no licenses of is named",
			want:     []Selection{{SKUID: e3, Selected: true}, {SKUID: unknown, Selected: true}},
			badProps: []string{"customerUserLicenses[1].skuId"},
		},
		{
			name:     "every failing item is named, not only the first",
			want:     []Selection{{SKUID: unknown, Selected: false}, {SKUID: e3, Selected: true}, {SKUID: uuid.New(), Selected: true}},
			badProps: []string{"customerUserLicenses[0].skuId", "customerUserLicenses[2].skuId"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Errorf(Invalid, "test")
			got := PlanChanges(seats, tt.want, e)
			if len(tt.badProps) > 0 {
				if props := propertyNames(e); !reflect.DeepEqual(props, tt.badProps) {
					t.Fatalf("failing properties = %v, want %v", props, tt.badProps)
				}
				return
			}
			if len(e.Properties) > 0 {
				t.Fatalf("unexpected errors: %v", e)
			}
			if !reflect.DeepEqual(got, tt.changes) {
				t.Fatalf("changes = %+v, want %+v", got, tt.changes)
			}
		})
	}
}

func TestPlanChanges_noAvailableSeatFailsNamingTheSKU(t *testing.T) {
	sku := uuid.New()
	seats := Seats{Licenses: []License{{SKUID: sku, Name: "E5", Total: 3, Suspended: 1, Consumed: 2}}}
	e := Errorf(Invalid, "test")
	PlanChanges(seats, []Selection{{SKUID: sku, Selected: true}}, e)
	if len(e.Properties) != 1 || e.Properties[0].Property != "customerUserLicenses[0].skuId" {
		t.Fatalf("want one error on customerUserLicenses[0].skuId, got %v", e)
	}
	if msg := e.Properties[0].Messages[0]; !contains(msg, sku.String()) || !contains(msg, "E5") {
		t.Fatalf("the message should name the SKU, got %q", msg)
	}
}

func TestCheckSelections_aSKUListedTwiceIsNamedAtItsSecondPlace(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	e := Errorf(Invalid, "test")
	if !CheckSelections([]Selection{{SKUID: a}, {SKUID: b}, {SKUID: a, Selected: true}}, e) {
		t.Fatal("a duplicate was not reported")
	}
	if got := propertyNames(e); !reflect.DeepEqual(got, []string{"customerUserLicenses[2].skuId"}) {
		t.Fatalf("failing properties = %v", got)
	}
	clean := Errorf(Invalid, "test")
	if CheckSelections([]Selection{{SKUID: a}, {SKUID: b}}, clean) {
		t.Fatalf("distinct SKUs were reported: %v", clean)
	}
}

func TestPrincipal_scope(t *testing.T) {
	r := uuid.New()
	tests := []struct {
		name string
		p    Principal
		want *uuid.UUID
	}{
		{"a csp sees the whole tenant", Principal{Tenant: "Portal.Test", Roles: []Role{RoleCSP}}, nil},
		{"a reseller sees its own customers", Principal{Tenant: "portal.test", Roles: []Role{RoleReseller}, ResellerID: &r}, &r},
		{"csp wins over reseller", Principal{Tenant: "portal.test", Roles: []Role{RoleReseller, RoleCSP}, ResellerID: &r}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.p.Scope()
			if s.Tenant != "portal.test" {
				t.Fatalf("tenant not normalized: %q", s.Tenant)
			}
			if !reflect.DeepEqual(s.ResellerID, tt.want) {
				t.Fatalf("ResellerID = %v, want %v", s.ResellerID, tt.want)
			}
		})
	}
}

func TestScope_allows(t *testing.T) {
	r1, r2 := uuid.New(), uuid.New()
	tests := []struct {
		name  string
		scope Scope
		c     Customer
		want  bool
	}{
		{"tenant-wide scope allows a direct customer", Scope{}, Customer{}, true},
		{"tenant-wide scope allows a reseller's customer", Scope{}, Customer{ResellerID: &r1}, true},
		{"reseller scope allows its customer", Scope{ResellerID: &r1}, Customer{ResellerID: &r1}, true},
		{"reseller scope hides another reseller's customer", Scope{ResellerID: &r1}, Customer{ResellerID: &r2}, false},
		{"reseller scope hides a direct customer", Scope{ResellerID: &r1}, Customer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.scope.Allows(tt.c); got != tt.want {
				t.Fatalf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
}

func propertyNames(e *Error) []string {
	var out []string
	for _, p := range e.Properties {
		out = append(out, p.Property)
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestDecide_reportsEveryRuleAndStartsAfreshOnEachCall(t *testing.T) {
	sku, unknown := uuid.New(), uuid.New()
	seats := Seats{Licenses: []License{{SKUID: sku, Name: "E3", Total: 1, Consumed: 1}}}
	aws := ProviderInstance{ID: uuid.New(), Provider: "aws"}
	decide := Decide(aws, []Selection{{SKUID: sku, Selected: true}, {SKUID: unknown, Selected: true}, {SKUID: sku}})
	for call := 1; call <= 2; call++ {
		_, err := decide(seats)
		e, ok := err.(*Error)
		if !ok || e.Code != Invalid {
			t.Fatalf("call %d: want Invalid, got %v", call, err)
		}
		want := []string{"providerInstanceId", "customerUserLicenses[2].skuId", "customerUserLicenses[0].skuId", "customerUserLicenses[1].skuId"}
		if got := propertyNames(e); !reflect.DeepEqual(got, want) {
			t.Fatalf("call %d: failing properties = %v, want %v", call, got, want)
		}
		for _, p := range e.Properties {
			if len(p.Messages) != 1 {
				t.Fatalf("call %d: %s has %d messages; a repeated call must not pile them up", call, p.Property, len(p.Messages))
			}
		}
	}
	ms := ProviderInstance{ID: uuid.New(), Provider: "Microsoft"}
	changes, err := Decide(ms, []Selection{{SKUID: sku, Selected: false}})(Seats{Licenses: seats.Licenses, Held: map[uuid.UUID]bool{sku: true}})
	if err != nil || len(changes) != 1 || changes[0].Assign {
		t.Fatalf("a valid removal: %v %+v", err, changes)
	}
}

func TestPrincipal_scopeReadsRolesCaseInsensitively(t *testing.T) {
	r := uuid.New()
	p := Principal{Tenant: "portal.test", Roles: []Role{" Reseller"}, ResellerID: &r}
	if s := p.Scope(); s.ResellerID == nil || *s.ResellerID != r {
		t.Fatalf("a %q role must scope to its reseller, got %+v", p.Roles[0], s)
	}
}
