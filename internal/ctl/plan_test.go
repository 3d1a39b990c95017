package ctl

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// A small world: one customer under one Microsoft instance, an AWS
// instance, and users held SKUs as the tests say.
var (
	tCust   = uuid.MustParse("9c1b7f0e-0000-4000-8000-000000000001")
	tGone   = uuid.MustParse("9c1b7f0e-0000-4000-8000-000000000002")
	tMS     = uuid.MustParse("5f0c7b8e-0000-4000-8000-000000000001")
	tAWS    = uuid.MustParse("5f0c7b8e-0000-4000-8000-000000000002")
	tE3     = uuid.MustParse("05e9a617-0000-4000-8000-000000000001")
	tEO1    = uuid.MustParse("05e9a617-0000-4000-8000-000000000002")
	tVisioA = uuid.MustParse("05e9a617-0000-4000-8000-00000000000a")
	tVisioB = uuid.MustParse("05e9a617-0000-4000-8000-00000000000b")
)

func tUser(n int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("1a2b3c4d-0000-4000-8000-%012d", n)) }

func ptrTo[T any](v T) *T { return &v }

// world: E3 has e3Free free seats, EO1 none; user n is "u<n>@x.test";
// held[n] lists the SKUs user n holds.
func testWorld(e3Free int32, held map[int][]uuid.UUID) *World {
	lic := func(id uuid.UUID, name string, avail int32) gen.CustomerUserLicense {
		return gen.CustomerUserLicense{SkuId: id, Name: ptrTo(name), AvailableLicenses: ptrTo(avail)}
	}
	w := &World{
		Instances: map[uuid.UUID]gen.ProviderInstance{
			tMS:  {Id: tMS, Alias: ptrTo("Contoso CSP"), Provider: gen.Provider{Name: "microsoft"}},
			tAWS: {Id: tAWS, Alias: ptrTo("Contoso AWS"), Provider: gen.Provider{Name: "aws"}},
		},
		Customers: map[uuid.UUID]customerState{tCust: {Name: "Fabrikam"}, tGone: {lookup: lookup{NotFound: "no customer visible"}}},
		Licenses: map[custInst]licensesState{{tCust, tMS}: {Index: newSKUIndex([]gen.CustomerUserLicense{
			lic(tE3, "Microsoft 365 E3", e3Free), lic(tEO1, "Exchange Online (Plan 1)", 0),
			lic(tVisioA, "Visio Plan 2", 5), lic(tVisioB, "Visio Plan 2", 5),
		})}},
		Users: map[userRefKey]userState{},
		Held:  map[userKey]heldState{},
	}
	for n := 1; n <= 9; n++ {
		id := tUser(n)
		w.Users[userRefKey{tCust, tMS, fmt.Sprintf("u%d@x.test", n)}] = userState{ID: id, UPN: fmt.Sprintf("u%d@x.test", n)}
		w.Users[userRefKey{tCust, tMS, id.String()}] = userState{ID: id}
		h := map[uuid.UUID]bool{}
		for _, s := range held[n] {
			h[s] = true
		}
		w.Held[userKey{tCust, tMS, id}] = heldState{Held: h, lookup: lookup{CorrelationID: fmt.Sprintf("read-%d", n)}}
	}
	return w
}

// in builds input rows "user,sku,action" for the test customer under the
// Microsoft instance.
func in(specs ...string) []InputRow {
	var rows []InputRow
	for i, s := range specs {
		f := strings.Split(s, ",")
		r := InputRow{N: i + 1, CustomerID: tCust.String(), ProviderInstanceID: tMS.String(), User: f[0], SKU: f[1], Action: f[2]}
		if len(f) > 3 {
			r.CustomerID = f[3]
		}
		if len(f) > 4 {
			r.ProviderInstanceID = f[4]
		}
		rows = append(rows, r)
	}
	return rows
}

func plans(p *Plan) []Outcome {
	var out []Outcome
	for _, r := range p.Rows {
		out = append(out, r.Plan)
	}
	return out
}

func TestMakePlan_outcomesPerRow(t *testing.T) {
	E3, EO1 := "Microsoft 365 E3", "Exchange Online (Plan 1)"
	tests := []struct {
		name      string
		e3Free    int32
		held      map[int][]uuid.UUID
		rows      []InputRow
		want      []Outcome
		wantWhy   map[int]string // row number → a part of its reason
		wantWaves [2]int
	}{
		{name: "assignAndRemoveAreChanges", e3Free: 1, held: map[int][]uuid.UUID{2: {tEO1}},
			rows: in("u1@x.test,"+E3+",assign", "u2@x.test,"+EO1+",remove"),
			want: []Outcome{Changed, Changed}, wantWaves: [2]int{1, 1}},
		{name: "alreadySoIsUnchanged", e3Free: 0, held: map[int][]uuid.UUID{1: {tE3}},
			rows: in("u1@x.test,"+E3+",assign", "u2@x.test,"+E3+",remove"),
			want: []Outcome{Unchanged, Unchanged}},
		{name: "skuByIdUserByIdAndCaseInsensitiveNames", e3Free: 1,
			rows: in(tUser(1).String()+","+tE3.String()+",ASSIGN", "U2@X.TEST,microsoft 365 e3,remove"),
			want: []Outcome{Changed, Unchanged}, wantWaves: [2]int{0, 1}},
		{name: "moreAssignmentsThanSeatsAcrossTheFile", e3Free: 2,
			rows:    in("u1@x.test,"+E3+",assign", "u2@x.test,"+E3+",assign", "u3@x.test,"+E3+",assign"),
			want:    []Outcome{Changed, Changed, Impossible},
			wantWhy: map[int]string{3: "2 available, 3 needed by rows 1, 2 and 3"}, wantWaves: [2]int{0, 2}},
		{name: "removalsInTheFileFreeSeatsFirst", e3Free: 0, held: map[int][]uuid.UUID{3: {tE3}},
			rows:      in("u1@x.test,"+E3+",assign", "u3@x.test,"+E3+",remove"),
			want:      []Outcome{Changed, Changed},
			wantWaves: [2]int{1, 1}},
		{name: "aSeatShortUserIsWholeAndLeavesItsSeatsToLaterUsers", e3Free: 1,
			rows:      in("u1@x.test,"+EO1+",assign", "u1@x.test,"+E3+",assign", "u2@x.test,"+E3+",assign"),
			want:      []Outcome{Impossible, Skipped, Changed},
			wantWhy:   map[int]string{1: "not enough seats of Exchange Online (Plan 1)", 2: "all or nothing, and row 1 cannot be applied"},
			wantWaves: [2]int{0, 1}},
		{name: "unknownSKUMakesTheUsersOtherChangesSkipped", e3Free: 5, held: map[int][]uuid.UUID{1: {tEO1}},
			rows:    in("u1@x.test,"+E3+",assign", "u1@x.test,Visio,assign", "u1@x.test,"+EO1+",assign"),
			want:    []Outcome{Skipped, Impossible, Unchanged},
			wantWhy: map[int]string{2: `no SKU named "Visio"`}},
		{name: "ambiguousSKUNameIsImpossibleNamingTheIds", e3Free: 5,
			rows:    in("u1@x.test,Visio Plan 2,assign", "u1@x.test,"+tVisioB.String()+",assign"),
			want:    []Outcome{Impossible, Skipped},
			wantWhy: map[int]string{1: tVisioA.String() + ", " + tVisioB.String()}},
		{name: "assigningAndRemovingOneSKUIsAContradiction", e3Free: 5,
			rows:    in("u1@x.test,"+E3+",assign", "u1@x.test,"+E3+",remove", "u2@x.test,"+E3+",assign"),
			want:    []Outcome{Impossible, Impossible, Changed},
			wantWhy: map[int]string{1: "rows 1 and 2 both assign and remove"}, wantWaves: [2]int{0, 1}},
		{name: "duplicateRowsAreOneChange", e3Free: 1,
			rows: in("u1@x.test,"+E3+",assign", "u1@x.test,"+E3+",assign"),
			want: []Outcome{Changed, Changed}, wantWaves: [2]int{0, 1}},
		{name: "malformedRows", e3Free: 5,
			rows:    in("u1@x.test,"+E3+",add", ",x,assign", "u1@x.test,"+E3+",assign,not-a-uuid", "u1@x.test,,remove"),
			want:    []Outcome{Impossible, Impossible, Impossible, Impossible},
			wantWhy: map[int]string{1: `action "add"`, 2: "user is empty", 3: `customerId "not-a-uuid" is not a uuid`, 4: "sku is empty"}},
		{name: "unknownUserCustomerOrInstance", e3Free: 5,
			rows: in("nobody@x.test,"+E3+",assign", "u1@x.test,"+E3+",assign,"+tGone.String(),
				"u1@x.test,"+E3+",assign,"+tCust.String()+","+uuid.NewString(), "u1@x.test,"+E3+",assign,"+tCust.String()+","+tAWS.String()),
			want:    []Outcome{Impossible, Impossible, Impossible, Impossible},
			wantWhy: map[int]string{2: "no customer visible", 3: "the portal has no provider instance", 4: "is aws, not Microsoft"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld(tt.e3Free, tt.held)
			w.Users[userRefKey{tCust, tMS, "nobody@x.test"}] = userState{lookup: lookup{NotFound: "no such user"}}
			p := MakePlan(parseRows(tt.rows), w)
			if got := plans(p); !reflect.DeepEqual(got, tt.want) {
				for _, r := range p.Rows {
					t.Logf("row %d: %s %v", r.In.N, r.Plan, r.Err)
				}
				t.Fatalf("plans = %v, want %v", got, tt.want)
			}
			for n, part := range tt.wantWhy {
				r := p.Rows[n-1]
				if r.Err == nil || !strings.Contains(r.Err.Description, part) {
					t.Errorf("row %d reason = %v, want it to contain %q", n, r.Err, part)
				}
			}
			if got := [2]int{len(p.Waves[0]), len(p.Waves[1])}; got != tt.wantWaves {
				t.Errorf("waves = %v, want %v", got, tt.wantWaves)
			}
		})
	}
}

func TestMakePlan_onePatchPerUserCarryingAllItsChanges(t *testing.T) {
	w := testWorld(5, map[int][]uuid.UUID{1: {tEO1}})
	p := MakePlan(parseRows(in("u1@x.test,Microsoft 365 E3,assign", "u2@x.test,Microsoft 365 E3,assign",
		"u1@x.test,Exchange Online (Plan 1),remove", "u1@x.test,Microsoft 365 E3,assign")), w)
	if len(p.Waves[1]) != 2 {
		t.Fatalf("waves %v", p.Waves)
	}
	g := p.Waves[1][0]
	want := []gen.CustomerUserLicense{{SkuId: tE3, IsSelected: true}, {SkuId: tEO1, IsSelected: false}}
	if g.Key.User != tUser(1) || !reflect.DeepEqual(g.Items, want) {
		t.Errorf("first user's PATCH = %v %+v, want %v", g.Key.User, g.Items, want)
	}
	if len(g.ItemRows[0]) != 2 || g.ItemRows[0][1].In.N != 4 {
		t.Errorf("rows 1 and 4 ask for the same item; got %v", g.ItemRows[0])
	}
}

func TestMakePlan_failedReadFailsTheRowsAndSkipsTheUser(t *testing.T) {
	w := testWorld(5, nil)
	k := userKey{tCust, tMS, tUser(1)}
	w.Held[k] = heldState{lookup: lookup{Failed: &RowError{Description: "503"}, CorrelationID: "c-1"}}
	p := MakePlan(parseRows(in("u1@x.test,Microsoft 365 E3,assign", "u2@x.test,Microsoft 365 E3,assign")), w)
	if got := plans(p); !reflect.DeepEqual(got, []Outcome{Failed, Changed}) {
		t.Fatalf("plans = %v", got)
	}
	if p.Rows[0].CorrelationID != "c-1" {
		t.Errorf("the failed read's correlation id is lost: %q", p.Rows[0].CorrelationID)
	}
}

func TestRowsPhrase(t *testing.T) {
	rows := func(ns ...int) []*Row {
		var out []*Row
		for _, n := range ns {
			out = append(out, &Row{In: InputRow{N: n}})
		}
		return out
	}
	tests := []struct {
		rows []*Row
		want string
	}{
		{rows(4), "row 4"},
		{rows(4, 4), "row 4"},
		{rows(2, 5, 7), "rows 2, 5 and 7"},
		{rows(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"},
	}
	for _, tt := range tests {
		if got := rowsPhrase(tt.rows); got != tt.want {
			t.Errorf("rowsPhrase = %q, want %q", got, tt.want)
		}
	}
}
