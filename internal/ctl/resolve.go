package ctl

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// Admins name things the way they see them: a customer by its company
// name, a provider instance by its alias, a user by its userPrincipalName,
// a SKU by its name. Each resolver takes an id as it is and looks a name up
// through the API, matching it whole and case-insensitively; a name that
// matches several is refused with their ids, never guessed.

func isUUID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	return id, err == nil && len(strings.TrimSpace(s)) == 36
}

// resolveCustomer returns the customer's id.
func (a *api) resolveCustomer(ctx context.Context, ref string) (uuid.UUID, string, error) {
	if id, ok := isUUID(ref); ok {
		return id, "", nil
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return uuid.Nil, "", usageErrorf("--customer is empty")
	}
	search := ref
	if len(search) > 255 {
		return uuid.Nil, "", usageErrorf("--customer %q: a name is at most 255 characters", ref)
	}
	size := int32(maxPageSize)
	var matches []gen.Customer
	for n := int32(1); ; n++ {
		p, err := a.customersPage(ctx, gen.GetCustomersParams{SearchValue: &search, PageNumber: &n, PageSize: &size})
		if err != nil {
			return uuid.Nil, "", err
		}
		for _, c := range p.Items {
			if c.CompanyName != nil && strings.EqualFold(*c.CompanyName, ref) {
				matches = append(matches, c)
			}
		}
		if !p.HasNextPage || len(p.Items) == 0 {
			break
		}
	}
	switch len(matches) {
	case 0:
		return uuid.Nil, "", usageErrorf("no customer is named %q (licensesctl customers list --search %q shows the near ones)", ref, ref)
	case 1:
		return matches[0].Id, *matches[0].CompanyName, nil
	}
	var ids []string
	for _, c := range matches {
		ids = append(ids, c.Id.String())
	}
	return uuid.Nil, "", usageErrorf("%d customers are named %q: give the id (%s)", len(matches), ref, strings.Join(ids, ", "))
}

// resolveInstance returns the provider instance's id: by id, by alias, or,
// when ref is empty, the portal's only Microsoft instance.
func (a *api) resolveInstance(ctx context.Context, ref string) (uuid.UUID, error) {
	if id, ok := isUUID(ref); ok {
		return id, nil
	}
	all, err := a.allProviderInstances(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	var matches []gen.ProviderInstance
	for _, pi := range all {
		if ref == "" && pi.Provider.Name == "microsoft" || ref != "" && pi.Alias != nil && strings.EqualFold(*pi.Alias, strings.TrimSpace(ref)) {
			matches = append(matches, pi)
		}
	}
	if len(matches) == 1 {
		return matches[0].Id, nil
	}
	var names []string
	for _, pi := range all {
		names = append(names, fmt.Sprintf("%s (%s, %s)", cell(pi.Alias), pi.Provider.Name, pi.Id))
	}
	list := strings.Join(names, "; ")
	if list == "" {
		list = "none"
	}
	switch {
	case ref == "" && len(matches) == 0:
		return uuid.Nil, usageErrorf("--provider-instance is needed: the portal has no Microsoft provider instance (instances: %s)", list)
	case ref == "":
		return uuid.Nil, usageErrorf("--provider-instance is needed: the portal has %d Microsoft provider instances (%s)", len(matches), list)
	case len(matches) == 0:
		return uuid.Nil, usageErrorf("no provider instance has the alias %q (instances: %s)", ref, list)
	}
	return uuid.Nil, usageErrorf("%d provider instances have the alias %q: give the id (%s)", len(matches), ref, list)
}

// userMatch is a user found by its userPrincipalName.
type userMatch struct {
	ID               uuid.UUID
	UPN, DisplayName string
}

// findUser looks a userPrincipalName up among the customer's users. It
// returns (nil, nil) when no user has it.
func (a *api) findUser(ctx context.Context, customer, instance uuid.UUID, upn string) (*userMatch, error) {
	upn = strings.TrimSpace(upn)
	search := upn
	if len(search) > 256 {
		return nil, nil
	}
	size := int32(maxPageSize)
	var found []gen.CustomerUser
	for n := int32(1); ; n++ {
		p, err := a.usersPage(ctx, customer, gen.GetCustomerUsersParams{ProviderInstanceId: instance, Search: &search, PageNumber: &n, PageSize: &size})
		if err != nil {
			return nil, err
		}
		for _, u := range p.Items {
			if strings.EqualFold(u.UserPrincipalName, upn) {
				found = append(found, u)
			}
		}
		if !p.HasNextPage || len(p.Items) == 0 {
			break
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &userMatch{ID: found[0].Id, UPN: found[0].UserPrincipalName, DisplayName: found[0].DisplayName}, nil
	}
	var ids []string
	for _, u := range found {
		ids = append(ids, u.Id.String())
	}
	return nil, fmt.Errorf("%d users have the userPrincipalName %q: give the id (%s)", len(found), upn, strings.Join(ids, ", "))
}

// resolveUser returns the user's id for a command line reference.
func (a *api) resolveUser(ctx context.Context, customer, instance uuid.UUID, ref string) (uuid.UUID, string, error) {
	if id, ok := isUUID(ref); ok {
		return id, "", nil
	}
	if strings.TrimSpace(ref) == "" {
		return uuid.Nil, "", usageErrorf("--user is empty")
	}
	m, err := a.findUser(ctx, customer, instance, ref)
	if err != nil {
		return uuid.Nil, "", err
	}
	if m == nil {
		return uuid.Nil, "", usageErrorf("customer %s has no user with the userPrincipalName %q", customer, ref)
	}
	return m.ID, m.UPN, nil
}

// skuIndex finds a customer's SKUs by id or by name.
type skuIndex struct {
	byID   map[uuid.UUID]gen.CustomerUserLicense
	byName map[string][]gen.CustomerUserLicense
}

func newSKUIndex(ls []gen.CustomerUserLicense) skuIndex {
	ix := skuIndex{byID: map[uuid.UUID]gen.CustomerUserLicense{}, byName: map[string][]gen.CustomerUserLicense{}}
	for _, l := range ls {
		ix.byID[l.SkuId] = l
		if l.Name != nil {
			k := strings.ToLower(strings.TrimSpace(*l.Name))
			ix.byName[k] = append(ix.byName[k], l)
		}
	}
	return ix
}

// find returns the SKU or why it cannot be told.
func (ix skuIndex) find(ref string) (gen.CustomerUserLicense, string) {
	if id, ok := isUUID(ref); ok {
		if l, ok := ix.byID[id]; ok {
			return l, ""
		}
		return gen.CustomerUserLicense{}, fmt.Sprintf("the customer has no SKU %s under this provider instance", id)
	}
	ms := ix.byName[strings.ToLower(strings.TrimSpace(ref))]
	switch len(ms) {
	case 0:
		return gen.CustomerUserLicense{}, fmt.Sprintf("the customer has no SKU named %q under this provider instance", strings.TrimSpace(ref))
	case 1:
		return ms[0], ""
	}
	var ids []string
	for _, l := range ms {
		ids = append(ids, l.SkuId.String())
	}
	return gen.CustomerUserLicense{}, fmt.Sprintf("%d SKUs are named %q: give the skuId (%s)", len(ms), strings.TrimSpace(ref), strings.Join(ids, ", "))
}
