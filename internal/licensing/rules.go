package licensing

import (
	"fmt"

	"github.com/google/uuid"
)

// itemProperty names an item's skuId the way the error body does.
func itemProperty(i int) string { return fmt.Sprintf("customerUserLicenses[%d].skuId", i) }

// CheckSelections returns the rules an update breaks that need no seats:
// a SKU listed twice. It adds to e and returns whether it added anything.
func CheckSelections(want []Selection, e *Error) bool {
	before := len(e.Properties)
	first := map[uuid.UUID]int{}
	for i, s := range want {
		if j, dup := first[s.SKUID]; dup {
			e.Add(itemProperty(i), "SKU %s is listed twice (also at customerUserLicenses[%d]).", s.SKUID, j)
			continue
		}
		first[s.SKUID] = i
	}
	return len(e.Properties) > before
}

// PlanChanges decides an update: for each selection it assigns a SKU the
// user lacks or removes one the user holds, and leaves everything else. It
// fails (adding to e, code Invalid) when a SKU is unknown to the customer
// under the provider instance or when more seats of a SKU are needed than
// are available. Removals in the same request free no seats for others: a
// request concerns one user, who holds at most one seat of a SKU.
func PlanChanges(seats Seats, want []Selection, e *Error) []Change {
	bySKU := make(map[uuid.UUID]License, len(seats.Licenses))
	for _, l := range seats.Licenses {
		bySKU[l.SKUID] = l
	}
	var changes []Change
	planned := map[uuid.UUID]bool{}
	for i, s := range want {
		l, known := bySKU[s.SKUID]
		if !known {
			e.Add(itemProperty(i), "The customer has no licenses of SKU %s under this provider instance.", s.SKUID)
			continue
		}
		if planned[s.SKUID] {
			continue // a duplicate, reported by CheckSelections
		}
		planned[s.SKUID] = true
		held := seats.Held[s.SKUID]
		switch {
		case s.Selected && !held:
			if l.Available() < 1 {
				e.Add(itemProperty(i), "Not enough available licenses of SKU %s (%s): %d available, 1 needed.",
					s.SKUID, l.Name, l.Available())
				continue
			}
			changes = append(changes, Change{SKUID: s.SKUID, SKUName: l.Name, Assign: true})
		case !s.Selected && held:
			changes = append(changes, Change{SKUID: s.SKUID, SKUName: l.Name, Assign: false})
		}
	}
	return changes
}

// Decide returns the decision of an update under the provider instance:
// every business rule is checked (the provider must be Microsoft, no SKU
// listed twice, each SKU known, a free seat for each assignment) and every
// failing property reported in one Invalid error; otherwise the changes.
// The error is built afresh on each call because a store may call the
// decision more than once (after retrying a transaction).
func Decide(pi ProviderInstance, want []Selection) func(Seats) ([]Change, error) {
	return func(seats Seats) ([]Change, error) {
		if err := CheckSize(want); err != nil {
			return nil, err
		}
		invalid := Errorf(Invalid, "The user's licenses were not updated; nothing was changed.")
		if !pi.IsMicrosoft() {
			invalid.Add("providerInstanceId", "Provider instance %s is a %q instance; user licenses exist only for Microsoft.", pi.ID, pi.Provider)
		}
		CheckSelections(want, invalid)
		changes := PlanChanges(seats, want, invalid)
		if len(invalid.Properties) > 0 {
			return nil, invalid
		}
		return changes, nil
	}
}

// MaxSelections is the most items one update may carry, the spec's
// maxItems. The domain enforces it too, before any lock is taken, so that
// no path around the HTTP validator can make a store hold its write lock
// over an unbounded list.
const MaxSelections = 1000

// CheckSize refuses an update with no items or more than MaxSelections,
// naming customerUserLicenses.
func CheckSize(want []Selection) error {
	if n := len(want); n < 1 || n > MaxSelections {
		return Errorf(Invalid, "The user's licenses were not updated; nothing was changed.").
			Add("customerUserLicenses", "Between 1 and %d items are required; %d were sent.", MaxSelections, n)
	}
	return nil
}

// CheckChanges is the one check every directory makes after a decision and
// before writing it: each change names a SKU the customer has, assigns a
// SKU the user lacks or removes one the user holds, at most once, and an
// assignment finds a free seat. Whatever the decision says, a directory
// writes nothing that breaks these invariants: a contradicting change list
// is a bug, refused whole (Internal). It returns the changes with the SKU
// names of record.
func CheckChanges(seats Seats, changes []Change) ([]Change, error) {
	bySKU := make(map[uuid.UUID]License, len(seats.Licenses))
	for _, l := range seats.Licenses {
		bySKU[l.SKUID] = l
	}
	seen := make(map[uuid.UUID]bool, len(changes))
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		l, known := bySKU[ch.SKUID]
		switch {
		case !known:
			return nil, Errorf(Internal, "the decision changes SKU %s, which the customer has no licenses of", ch.SKUID)
		case seen[ch.SKUID]:
			return nil, Errorf(Internal, "the decision changes SKU %s twice", ch.SKUID)
		case ch.Assign && seats.Held[ch.SKUID]:
			return nil, Errorf(Internal, "the decision assigns SKU %s, which the user already holds", ch.SKUID)
		case !ch.Assign && !seats.Held[ch.SKUID]:
			return nil, Errorf(Internal, "the decision removes SKU %s, which the user does not hold", ch.SKUID)
		case ch.Assign && l.Available() < 1:
			return nil, Errorf(Internal, "the decision assigns SKU %s, which has no available seat", ch.SKUID)
		}
		seen[ch.SKUID] = true
		ch.SKUName = l.Name // the name of record, not whatever the decision put there
		out = append(out, ch)
	}
	return out, nil
}
