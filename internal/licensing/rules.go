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
