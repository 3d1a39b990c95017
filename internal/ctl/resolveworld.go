package ctl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// forEach calls fn for every key, at most n at a time, and stops starting
// calls once ctx is done.
func forEach[K any](ctx context.Context, n int, keys []K, fn func(K)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, k := range keys {
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				fn(k)
			}()
			continue
		}
		break
	}
	wg.Wait()
}

// listWholeDirectoryAt is how many userPrincipalNames of one customer
// make reading its whole user list cheaper than searching each: a page
// holds 2000 users, a search costs a request per name.
const listWholeDirectoryAt = 20

// rowErrorOf describes a failed request for the report.
func rowErrorOf(err error) (*RowError, string) {
	var ae *APIError
	var ne *NetworkError
	switch {
	case errors.As(err, &ae):
		re := &RowError{Description: ae.Error()}
		if ae.Body != nil && ae.Body.Errors != nil {
			re.Errors = *ae.Body.Errors
		}
		return re, ae.CorrelationID
	case errors.As(err, &ne):
		return &RowError{Description: ne.Error()}, ne.CorrelationID
	}
	return &RowError{Description: err.Error()}, ""
}

// lookupOf turns a read's error into a lookup: a 404 means the thing is
// not there (the rows are impossible), anything else that the read failed.
func lookupOf(err error, notFound string) lookup {
	if err == nil {
		return lookup{}
	}
	re, cid := rowErrorOf(err)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		why := notFound
		if lines := ae.PropertyErrors(); len(lines) > 0 {
			why += " (" + lines[0] + ")"
		}
		return lookup{NotFound: why, CorrelationID: cid}
	}
	return lookup{Failed: re, CorrelationID: cid}
}

// readWorld reads, through the API only, everything the plan needs: the
// provider instances, each customer, its licenses under each instance, each
// user named by userPrincipalName and each user's current licenses. Reads
// run n at a time; ctx done stops them (nothing has changed yet).
func (a *api) readWorld(ctx context.Context, rows []*Row, n int) (*World, error) {
	w := &World{
		Instances: map[uuid.UUID]gen.ProviderInstance{},
		Customers: map[uuid.UUID]customerState{},
		Licenses:  map[custInst]licensesState{},
		Users:     map[userRefKey]userState{},
		Held:      map[userKey]heldState{},
	}
	var mu sync.Mutex
	pending := func() []*Row {
		var out []*Row
		for _, r := range rows {
			if r.Plan == "" {
				out = append(out, r)
			}
		}
		return out
	}
	if len(pending()) == 0 {
		return w, nil
	}
	instances, err := a.allProviderInstances(ctx)
	if err != nil {
		return nil, err
	}
	for _, pi := range instances {
		w.Instances[pi.Id] = pi
	}

	var customers []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, r := range pending() {
		if !seen[*r.CustomerID] {
			seen[*r.CustomerID] = true
			customers = append(customers, *r.CustomerID)
		}
	}
	forEach(ctx, n, customers, func(id uuid.UUID) {
		c, err := a.customer(ctx, id, nil)
		st := customerState{lookup: lookupOf(err, fmt.Sprintf("no customer %s is visible to you", id))}
		if err == nil && c.CompanyName != nil {
			st.Name = *c.CompanyName
		}
		mu.Lock()
		w.Customers[id] = st
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	usable := func(r *Row) bool {
		pi, ok := w.Instances[*r.InstanceID]
		cs := w.Customers[*r.CustomerID]
		return ok && pi.Provider.Name == "microsoft" && cs.NotFound == "" && cs.Failed == nil
	}
	var pairs []custInst
	seenPair := map[custInst]bool{}
	for _, r := range pending() {
		k := custInst{*r.CustomerID, *r.InstanceID}
		if usable(r) && !seenPair[k] {
			seenPair[k] = true
			pairs = append(pairs, k)
		}
	}
	forEach(ctx, n, pairs, func(k custInst) {
		ls, cid, err := a.customerLicenses(ctx, k.Customer, k.Instance, nil)
		st := licensesState{lookup: lookupOf(err, fmt.Sprintf("customer %s has no licenses under provider instance %s", k.Customer, k.Instance))}
		st.CorrelationID = cid
		if err == nil {
			st.Index = newSKUIndex(ls)
		}
		mu.Lock()
		w.Licenses[k] = st
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var refs []userRefKey
	seenRef := map[userRefKey]bool{}
	for _, r := range pending() {
		if !usable(r) {
			continue
		}
		if ls := w.Licenses[custInst{*r.CustomerID, *r.InstanceID}]; ls.NotFound != "" || ls.Failed != nil {
			continue
		}
		k := userRefKey{}.of(r)
		if seenRef[k] {
			continue
		}
		seenRef[k] = true
		if id, ok := isUUID(k.Ref); ok {
			w.Users[k] = userState{ID: id}
			continue
		}
		refs = append(refs, k)
	}
	// A customer named by many rows is read whole, a page of 2000 users a
	// request, instead of one search per userPrincipalName.
	byCustomer := map[custInst][]userRefKey{}
	for _, k := range refs {
		ci := custInst{k.Customer, k.Instance}
		byCustomer[ci] = append(byCustomer[ci], k)
	}
	var whole []custInst
	var searched []userRefKey
	for ci, ks := range byCustomer {
		if len(ks) >= listWholeDirectoryAt {
			whole = append(whole, ci)
		} else {
			searched = append(searched, ks...)
		}
	}
	forEach(ctx, n, whole, func(ci custInst) {
		users, err := a.allUsers(ctx, ci.Customer, ci.Instance)
		byUPN := map[string][]gen.CustomerUser{}
		for _, u := range users {
			k := strings.ToLower(u.UserPrincipalName)
			byUPN[k] = append(byUPN[k], u)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, k := range byCustomer[ci] {
			var st userState
			found := byUPN[k.Ref]
			switch {
			case err != nil:
				st.lookup = lookupOf(err, "")
			case len(found) == 0:
				st.NotFound = fmt.Sprintf("customer %s has no user with the userPrincipalName %q", k.Customer, k.Ref)
			case len(found) > 1:
				st.NotFound = fmt.Sprintf("%d users have the userPrincipalName %q: give the id", len(found), k.Ref)
			default:
				st.ID, st.UPN, st.DisplayName = found[0].Id, found[0].UserPrincipalName, found[0].DisplayName
			}
			w.Users[k] = st
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	forEach(ctx, n, searched, func(k userRefKey) {
		m, err := a.findUser(ctx, k.Customer, k.Instance, k.Ref)
		var st userState
		switch {
		case err != nil:
			var ae *APIError
			var ne *NetworkError
			if errors.As(err, &ae) || errors.As(err, &ne) {
				st.lookup = lookupOf(err, "")
			} else {
				st.NotFound = err.Error() // several users share the name
			}
		case m == nil:
			st.NotFound = fmt.Sprintf("customer %s has no user with the userPrincipalName %q", k.Customer, k.Ref)
		default:
			st.ID, st.UPN, st.DisplayName = m.ID, m.UPN, m.DisplayName
		}
		mu.Lock()
		w.Users[k] = st
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var users []userKey
	seenUser := map[userKey]bool{}
	for k, us := range w.Users {
		if us.NotFound != "" || us.Failed != nil {
			continue
		}
		uk := userKey{k.Customer, k.Instance, us.ID}
		if !seenUser[uk] {
			seenUser[uk] = true
			users = append(users, uk)
		}
	}
	forEach(ctx, n, users, func(k userKey) {
		ls, cid, err := a.userLicenses(ctx, k.Customer, k.User, k.Instance)
		st := heldState{lookup: lookupOf(err, fmt.Sprintf("customer %s has no user %s", k.Customer, k.User))}
		st.CorrelationID = cid
		if err == nil {
			st.Held = map[uuid.UUID]bool{}
			for _, l := range ls {
				if l.IsSelected {
					st.Held[l.SkuId] = true
				}
			}
		}
		mu.Lock()
		w.Held[k] = st
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return w, nil
}
