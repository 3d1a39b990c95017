package ctl

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// Outcome is what became of a row of a bulk file.
type Outcome string

// The outcomes of a row.
const (
	Changed    Outcome = "changed"
	Unchanged  Outcome = "unchanged"
	Failed     Outcome = "failed"
	Impossible Outcome = "impossible"
	Skipped    Outcome = "skipped"
)

// RowError says why a row failed, was impossible or was skipped; Errors
// are the API's property errors that concern the row.
type RowError struct {
	Description string              `json:"description"`
	Errors      []gen.PropertyError `json:"errors,omitempty"`
}

// Row is one input row as planned, applied and reported.
type Row struct {
	In InputRow
	// Resolved ids (nil until known).
	CustomerID, InstanceID, UserID, SKUID *uuid.UUID
	UPN, DisplayName, CustomerName        string
	InstanceAlias, SKUName                string
	Assign                                bool
	// Plan is what the plan decided: Changed (a change to make),
	// Unchanged (already so), Impossible, Failed (a read failed) or
	// Skipped (another row of the same user is impossible).
	Plan Outcome
	// Outcome is what happened (the plan's, until applied).
	Outcome       Outcome
	Err           *RowError
	CorrelationID string
}

func (r *Row) impossible(reason string) {
	r.Plan, r.Outcome, r.Err = Impossible, Impossible, &RowError{Description: reason}
}

type userKey struct{ Customer, Instance, User uuid.UUID }
type custInst struct{ Customer, Instance uuid.UUID }
type seatKey struct{ Customer, Instance, SKU uuid.UUID }

// userRefKey is how a row names its user: an id or a userPrincipalName
// (lower case), within a customer and provider instance.
type userRefKey struct {
	Customer, Instance uuid.UUID
	Ref                string
}

// lookup is the result of one read of the resolution: found, not found
// (the rows are impossible) or failed (the rows failed).
type lookup struct {
	NotFound      string    // why, when not found
	Failed        *RowError // when the read failed for another reason
	CorrelationID string
}

// World is what the resolution read through the API: the plan is made
// from it alone, so that planning is a function tests can call.
type World struct {
	Instances map[uuid.UUID]gen.ProviderInstance
	Customers map[uuid.UUID]customerState
	Licenses  map[custInst]licensesState
	Users     map[userRefKey]userState
	Held      map[userKey]heldState
}

type customerState struct {
	lookup
	Name string
}

type licensesState struct {
	lookup
	Index skuIndex
}

type userState struct {
	lookup
	ID               uuid.UUID
	UPN, DisplayName string
}

type heldState struct {
	lookup
	Held map[uuid.UUID]bool
}

// Group is one user's rows under one customer and provider instance: one
// PATCH carries all of its changes, so that they apply all or nothing.
type Group struct {
	Key  userKey
	Rows []*Row
	// Items are the PATCH body: one per SKU to change, in row order;
	// ItemRows[i] are the rows that asked for Items[i].
	Items    []gen.CustomerUserLicense
	ItemRows [][]*Row
}

// label names the group's user for a person.
func (g *Group) label() string {
	r := g.Rows[0]
	if r.UPN != "" {
		return r.UPN
	}
	return r.In.User
}

// Plan is the outcome of planning: every row with its planned outcome, the
// groups to apply, in waves.
type Plan struct {
	Rows []*Row
	// Groups are all groups of resolved rows, in the order of their first row.
	Groups []*Group
	// Waves are the groups with changes to make: first those that only
	// remove (they free seats that later assignments in this file were
	// counted on), then the others.
	Waves [2][]*Group
}

// parseRows checks each row's own form and makes the rows to plan.
func parseRows(in []InputRow) []*Row {
	rows := make([]*Row, len(in))
	for i, ir := range in {
		r := &Row{In: ir}
		rows[i] = r
		if ir.Problem != "" {
			r.impossible(ir.Problem)
			continue
		}
		var problems []string
		c, ok := isUUID(ir.CustomerID)
		if !ok {
			problems = append(problems, fmt.Sprintf("customerId %q is not a uuid", ir.CustomerID))
		}
		pi, ok2 := isUUID(ir.ProviderInstanceID)
		if !ok2 {
			problems = append(problems, fmt.Sprintf("providerInstanceId %q is not a uuid", ir.ProviderInstanceID))
		}
		if ir.User == "" {
			problems = append(problems, "user is empty")
		}
		if ir.SKU == "" {
			problems = append(problems, "sku is empty")
		}
		switch strings.ToLower(ir.Action) {
		case "assign":
			r.Assign = true
		case "remove":
		default:
			problems = append(problems, fmt.Sprintf("action %q is neither assign nor remove", ir.Action))
		}
		if len(problems) > 0 {
			r.impossible(strings.Join(problems, "; "))
			continue
		}
		r.CustomerID, r.InstanceID = &c, &pi
	}
	return rows
}

func (k userRefKey) of(r *Row) userRefKey {
	ref := strings.TrimSpace(r.In.User)
	if id, ok := isUUID(ref); ok {
		ref = id.String()
	} else {
		ref = strings.ToLower(ref)
	}
	return userRefKey{*r.CustomerID, *r.InstanceID, ref}
}

// applyLookup marks the row by a failed or empty lookup; it reports
// whether the row can go on.
func (r *Row) applyLookup(l lookup) bool {
	switch {
	case l.Failed != nil:
		r.Plan, r.Outcome, r.Err, r.CorrelationID = Failed, Failed, l.Failed, l.CorrelationID
		return false
	case l.NotFound != "":
		r.impossible(l.NotFound)
		r.CorrelationID = l.CorrelationID
		return false
	}
	return true
}

// MakePlan resolves the parsed rows against the world and decides each
// row's outcome. It changes nothing anywhere.
func MakePlan(rows []*Row, w *World) *Plan {
	p := &Plan{Rows: rows}
	groups := map[userKey]*Group{}
	for _, r := range rows {
		if r.Plan != "" {
			continue
		}
		inst, ok := w.Instances[*r.InstanceID]
		if !ok {
			r.impossible(fmt.Sprintf("the portal has no provider instance %s", r.InstanceID))
			continue
		}
		r.InstanceAlias = cell(inst.Alias)
		if inst.Provider.Name != "microsoft" {
			r.impossible(fmt.Sprintf("provider instance %s (%s) is %s, not Microsoft: its users hold no licenses", r.InstanceID, r.InstanceAlias, inst.Provider.Name))
			continue
		}
		cs := w.Customers[*r.CustomerID]
		if !r.applyLookup(cs.lookup) {
			continue
		}
		r.CustomerName = cs.Name
		ls := w.Licenses[custInst{*r.CustomerID, *r.InstanceID}]
		if !r.applyLookup(ls.lookup) {
			continue
		}
		us := w.Users[userRefKey{}.of(r)]
		if !r.applyLookup(us.lookup) {
			continue
		}
		uid := us.ID
		r.UserID, r.UPN, r.DisplayName = &uid, us.UPN, us.DisplayName
		key := userKey{*r.CustomerID, *r.InstanceID, uid}
		g := groups[key]
		if g == nil {
			g = &Group{Key: key}
			groups[key] = g
			p.Groups = append(p.Groups, g)
		}
		g.Rows = append(g.Rows, r)
		hs := w.Held[key]
		if !r.applyLookup(hs.lookup) {
			continue
		}
		l, why := ls.Index.find(r.In.SKU)
		if why != "" {
			r.impossible(why)
			continue
		}
		sku := l.SkuId
		r.SKUID, r.SKUName = &sku, cell(l.Name)
		if hs.Held[sku] == r.Assign {
			r.Plan, r.Outcome, r.CorrelationID = Unchanged, Unchanged, hs.CorrelationID
		} else {
			r.Plan, r.Outcome = Changed, Changed
		}
	}
	for _, g := range p.Groups {
		planGroup(g)
	}
	p.allocateSeats(w)
	for _, g := range p.Groups {
		if len(g.Items) == 0 || !g.valid() {
			continue
		}
		wave := 0
		for _, it := range g.Items {
			if it.IsSelected {
				wave = 1
			}
		}
		p.Waves[wave] = append(p.Waves[wave], g)
	}
	return p
}

// valid reports whether no row of the group is impossible or failed.
func (g *Group) valid() bool {
	for _, r := range g.Rows {
		if r.Plan == Impossible || r.Plan == Failed {
			return false
		}
	}
	return true
}

// planGroup refuses contradictions within one user (a SKU both assigned
// and removed), builds the PATCH items and skips the changes of a user
// with an impossible row: a user's change is all or nothing.
func planGroup(g *Group) {
	bySKU := map[uuid.UUID][]*Row{}
	var order []uuid.UUID
	for _, r := range g.Rows {
		if r.SKUID == nil {
			continue
		}
		if bySKU[*r.SKUID] == nil {
			order = append(order, *r.SKUID)
		}
		bySKU[*r.SKUID] = append(bySKU[*r.SKUID], r)
	}
	for _, sku := range order {
		rs := bySKU[sku]
		assign, remove := false, false
		for _, r := range rs {
			if r.Assign {
				assign = true
			} else {
				remove = true
			}
		}
		if assign && remove {
			nums := rowsPhrase(rs)
			for _, r := range rs {
				r.impossible(fmt.Sprintf("%s both assign and remove %s for this user", nums, r.SKUName))
				r.CorrelationID = ""
			}
		}
	}
	g.skipIfInvalid()
	if !g.valid() {
		return
	}
	for _, sku := range order {
		rs := bySKU[sku]
		if rs[0].Plan != Changed {
			continue
		}
		g.Items = append(g.Items, gen.CustomerUserLicense{SkuId: sku, IsSelected: rs[0].Assign})
		g.ItemRows = append(g.ItemRows, rs)
	}
}

// skipIfInvalid marks the changes of a group with an impossible or failed
// row as skipped, naming that row.
func (g *Group) skipIfInvalid() {
	var bad []*Row
	for _, r := range g.Rows {
		if r.Plan == Impossible || r.Plan == Failed {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		return
	}
	g.Items, g.ItemRows = nil, nil
	for _, r := range g.Rows {
		if r.Plan == Changed {
			r.Plan, r.Outcome = Skipped, Skipped
			r.Err = &RowError{Description: fmt.Sprintf("not applied: this user's changes are all or nothing, and %s cannot be applied", rowsPhrase(bad))}
		}
	}
}

// allocateSeats gives the free seats of each SKU to the users of this
// file in the order of their first row, counting the seats that this
// file's removal-only users free first. A user who would need a seat that
// is not there is impossible as a whole, and the seats it would have
// taken stay for the users after it.
func (p *Plan) allocateSeats(w *World) {
	free := map[seatKey]int{}
	avail := map[seatKey]int{}
	freed := map[seatKey]int{}
	needed := map[seatKey][]*Row{}
	users := map[seatKey]int{} // users of this file that need a seat
	for _, g := range p.Groups {
		if len(g.Items) == 0 {
			continue
		}
		onlyRemoves := true
		for _, it := range g.Items {
			if it.IsSelected {
				onlyRemoves = false
			}
		}
		for i, it := range g.Items {
			k := seatKey{g.Key.Customer, g.Key.Instance, it.SkuId}
			if _, ok := avail[k]; !ok {
				l := w.Licenses[custInst{g.Key.Customer, g.Key.Instance}].Index.byID[it.SkuId]
				avail[k] = int(deref(l.AvailableLicenses))
			}
			if it.IsSelected {
				needed[k] = append(needed[k], g.ItemRows[i]...)
				users[k]++
			} else if onlyRemoves {
				freed[k]++
			}
		}
	}
	for k, a := range avail {
		free[k] = a + freed[k]
	}
	// One phrase per SKU, however many rows lack a seat of it.
	phrase := map[seatKey]string{}
	for _, g := range p.Groups {
		if len(g.Items) == 0 {
			continue
		}
		var short []int
		for i, it := range g.Items {
			if it.IsSelected && free[seatKey{g.Key.Customer, g.Key.Instance, it.SkuId}] < 1 {
				short = append(short, i)
			}
		}
		if len(short) == 0 {
			for _, it := range g.Items {
				if it.IsSelected {
					free[seatKey{g.Key.Customer, g.Key.Instance, it.SkuId}]--
				}
			}
			continue
		}
		for _, i := range short {
			k := seatKey{g.Key.Customer, g.Key.Instance, g.Items[i].SkuId}
			extra := ""
			if freed[k] > 0 {
				extra = fmt.Sprintf(" (+%d freed by removals in this file)", freed[k])
			}
			if _, ok := phrase[k]; !ok {
				phrase[k] = rowsPhrase(needed[k])
			}
			for _, r := range g.ItemRows[i] {
				r.impossible(fmt.Sprintf("not enough seats of %s for %s: %d available%s, %d needed by %s of this file",
					r.SKUName, r.CustomerName, avail[k], extra, users[k], phrase[k]))
			}
		}
		g.skipIfInvalid()
	}
}

// rowsPhrase names rows as "row 2" or "rows 2, 5 and 7".
func rowsPhrase(rs []*Row) string {
	n := rowNumbers(rs)
	if strings.ContainsAny(n, ", ") {
		return "rows " + n
	}
	return "row " + n
}

// maxRowsNamed bounds how many row numbers one message lists: a file of
// thousands of rows must not put thousands of numbers into every reason.
const maxRowsNamed = 10

// rowNumbers lists row numbers as "2, 5 and 7", or "1, 2, …, 10 and 990
// more" beyond maxRowsNamed.
func rowNumbers(rs []*Row) string {
	var ns []string
	seen := map[int]bool{}
	for _, r := range rs {
		if !seen[r.In.N] {
			seen[r.In.N] = true
			ns = append(ns, fmt.Sprint(r.In.N))
		}
	}
	switch {
	case len(ns) == 0:
		return ""
	case len(ns) == 1:
		return ns[0]
	case len(ns) > maxRowsNamed:
		return strings.Join(ns[:maxRowsNamed], ", ") + fmt.Sprintf(" and %d more", len(ns)-maxRowsNamed)
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}
