package licensing

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Snapshot is a directory snapshot to import (the seed file format).
type Snapshot struct {
	Tenants []SnapshotTenant `json:"tenants"`
}

// SnapshotTenant is one portal with its provider instances and customers.
type SnapshotTenant struct {
	Domain            string                     `json:"domain"`
	ProviderInstances []SnapshotProviderInstance `json:"providerInstances"`
	Customers         []SnapshotCustomer         `json:"customers"`
}

// SnapshotProviderInstance is one provider connection of a portal.
type SnapshotProviderInstance struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// Directory is where the instance's seats live: "local" (the default,
	// this store) or "graph" (the customers' Microsoft 365 tenants).
	Directory string `json:"directory,omitempty"`
	// Graph configures a graph instance: the partner app and a reference
	// to its secret, never the secret.
	Graph *SnapshotGraph `json:"graph,omitempty"`
}

// SnapshotGraph is the partner's multitenant app a graph instance signs in
// with, and an optional usage location to set on users without one.
type SnapshotGraph struct {
	ClientID             string `json:"clientId"`
	ClientSecretEnv      string `json:"clientSecretEnv,omitempty"`
	ClientSecretFile     string `json:"clientSecretFile,omitempty"`
	DefaultUsageLocation string `json:"defaultUsageLocation,omitempty"`
}

// SnapshotProviderCustomer links a customer to a provider instance: under a
// graph instance, the customer's Microsoft 365 (Entra) tenant.
type SnapshotProviderCustomer struct {
	ProviderInstanceID string `json:"providerInstanceId"`
	MicrosoftTenantID  string `json:"microsoftTenantId"`
}

// SnapshotCustomer is one customer with its users and licenses.
type SnapshotCustomer struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	ResellerID   string            `json:"resellerId,omitempty"`
	ResellerName string            `json:"resellerName,omitempty"`
	Users        []SnapshotUser    `json:"users"`
	Licenses     []SnapshotLicense `json:"licenses"`
	// ProviderCustomers are the customer's links to graph instances; its
	// users and licenses under those come from Graph, not the snapshot.
	ProviderCustomers []SnapshotProviderCustomer `json:"providerCustomers,omitempty"`
}

// SnapshotUser is one user of a customer.
type SnapshotUser struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// SnapshotLicense is a customer's seats of one SKU under one provider
// instance, and the users holding it.
type SnapshotLicense struct {
	ProviderInstanceID string   `json:"providerInstanceId"`
	SKUID              string   `json:"skuId"`
	Name               string   `json:"name"`
	TotalLicenses      int32    `json:"totalLicenses"`
	SuspendedLicenses  int32    `json:"suspendedLicenses"`
	AssignedUserIDs    []string `json:"assignedUserIds"`
}

// Validate checks every rule of a snapshot and returns an Invalid Error
// naming each place that breaks one (e.g. tenants[0].customers[1].id), or
// nil. A snapshot is imported whole or not at all, so it is checked whole.
func (s Snapshot) Validate() error {
	e := Errorf(Invalid, "the snapshot breaks the rules below; nothing was imported")
	parse := func(place, v string) (uuid.UUID, bool) {
		id, err := uuid.Parse(v)
		if err != nil || len(v) != 36 {
			e.Add(place, "%q is not a uuid", v)
			return uuid.Nil, false
		}
		return id, true
	}
	domains := map[string]string{}
	instances := map[uuid.UUID]string{}
	customers := map[uuid.UUID]string{}
	users := map[uuid.UUID]string{}
	unique := func(seen map[uuid.UUID]string, id uuid.UUID, place, kind string) {
		if first, dup := seen[id]; dup {
			e.Add(place, "duplicate %s id %s (first at %s)", kind, id, first)
			return
		}
		seen[id] = place
	}
	if len(s.Tenants) == 0 {
		e.Add("tenants", "at least one tenant is required")
	}
	for ti, t := range s.Tenants {
		tp := fmt.Sprintf("tenants[%d]", ti)
		d := NormalizeTenant(t.Domain)
		switch {
		case d == "" || strings.ContainsAny(d, " /\t"):
			e.Add(tp+".domain", "%q is not a portal domain", t.Domain)
		case domains[d] != "":
			e.Add(tp+".domain", "duplicate domain %q (first at %s)", d, domains[d])
		default:
			domains[d] = tp
		}
		tenantInstances := map[uuid.UUID]bool{}
		graphInstances := map[uuid.UUID]bool{}
		for pi, p := range t.ProviderInstances {
			pp := fmt.Sprintf("%s.providerInstances[%d]", tp, pi)
			id, ok := parse(pp+".id", p.ID)
			if ok {
				unique(instances, id, pp+".id", "provider instance")
				tenantInstances[id] = true
			}
			if strings.TrimSpace(p.Provider) == "" {
				e.Add(pp+".provider", "a provider is required (e.g. microsoft)")
			}
			if p.validateDirectory(pp, e) && ok {
				graphInstances[id] = true
			}
		}
		for ci, c := range t.Customers {
			cp := fmt.Sprintf("%s.customers[%d]", tp, ci)
			if id, ok := parse(cp+".id", c.ID); ok {
				unique(customers, id, cp+".id", "customer")
			}
			if strings.TrimSpace(c.Name) == "" {
				e.Add(cp+".name", "a name is required")
			}
			if c.ResellerID != "" {
				parse(cp+".resellerId", c.ResellerID)
			}
			linked := validateProviderCustomers(cp, c.ProviderCustomers, tenantInstances, graphInstances, parse, e)
			customerUsers := map[uuid.UUID]bool{}
			if linked && len(c.Users) > 0 {
				e.Add(cp+".users", "the customer is linked to a graph instance: its users come from its Microsoft 365 tenant, list none here")
			}
			for ui, u := range c.Users {
				up := fmt.Sprintf("%s.users[%d]", cp, ui)
				if id, ok := parse(up+".id", u.ID); ok {
					unique(users, id, up+".id", "user")
					customerUsers[id] = true
				}
			}
			skus := map[[2]uuid.UUID]string{}
			for li, l := range c.Licenses {
				lp := fmt.Sprintf("%s.licenses[%d]", cp, li)
				piID, piOK := parse(lp+".providerInstanceId", l.ProviderInstanceID)
				switch {
				case piOK && !tenantInstances[piID]:
					e.Add(lp+".providerInstanceId", "unknown provider instance %s in this tenant", piID)
				case piOK && graphInstances[piID]:
					e.Add(lp+".providerInstanceId", "provider instance %s is a graph instance: its licenses come from Microsoft Graph, list none here", piID)
				}
				skuID, skuOK := parse(lp+".skuId", l.SKUID)
				if piOK && skuOK {
					key := [2]uuid.UUID{piID, skuID}
					if first, dup := skus[key]; dup {
						e.Add(lp+".skuId", "SKU %s is listed twice for this provider instance (first at %s)", skuID, first)
					}
					skus[key] = lp
				}
				if l.TotalLicenses < 0 {
					e.Add(lp+".totalLicenses", "must be 0 or more")
				}
				if l.SuspendedLicenses < 0 {
					e.Add(lp+".suspendedLicenses", "must be 0 or more")
				}
				assigned := map[uuid.UUID]bool{}
				for ai, a := range l.AssignedUserIDs {
					ap := fmt.Sprintf("%s.assignedUserIds[%d]", lp, ai)
					id, ok := parse(ap, a)
					switch {
					case !ok:
					case !customerUsers[id]:
						e.Add(ap, "unknown user %s of this customer", id)
					case assigned[id]:
						e.Add(ap, "user %s is assigned twice", id)
					default:
						assigned[id] = true
					}
				}
				usable := int(l.TotalLicenses) - int(l.SuspendedLicenses)
				if len(l.AssignedUserIDs) > usable && usable >= 0 {
					e.Add(lp+".assignedUserIds", "%d assignments but only %d usable seats (total %d, suspended %d)",
						len(l.AssignedUserIDs), usable, l.TotalLicenses, l.SuspendedLicenses)
				} else if usable < 0 && len(l.AssignedUserIDs) > 0 {
					e.Add(lp+".assignedUserIds", "%d assignments but no usable seats (suspended exceeds total)", len(l.AssignedUserIDs))
				}
			}
		}
	}
	if len(e.Properties) > 0 {
		return e
	}
	return nil
}

// validateDirectory checks the instance's directory settings and reports
// whether it is a graph instance.
func (p SnapshotProviderInstance) validateDirectory(pp string, e *Error) bool {
	switch p.Directory {
	case "", DirectoryLocal:
		if p.Graph != nil {
			e.Add(pp+".graph", "graph settings need \"directory\": \"graph\"")
		}
		return false
	case DirectoryGraph:
	default:
		e.Add(pp+".directory", "unknown directory kind %q: use \"local\" or \"graph\"", p.Directory)
		return false
	}
	if !p.IsMicrosoftProvider() {
		e.Add(pp+".provider", "a graph instance must have provider microsoft")
	}
	g := p.Graph
	if g == nil {
		e.Add(pp+".graph", "a graph instance needs graph.clientId and one of graph.clientSecretEnv, graph.clientSecretFile")
		return true
	}
	if _, err := uuid.Parse(g.ClientID); err != nil || len(g.ClientID) != 36 {
		e.Add(pp+".graph.clientId", "%q is not an application (client) id, a uuid", g.ClientID)
	}
	switch {
	case g.ClientSecretEnv != "" && g.ClientSecretFile != "":
		e.Add(pp+".graph", "give one of clientSecretEnv and clientSecretFile, not both")
	case g.ClientSecretEnv == "" && g.ClientSecretFile == "":
		e.Add(pp+".graph", "a reference to the app's secret is required: clientSecretEnv (a variable name) or clientSecretFile (a path); never the secret itself")
	case g.ClientSecretEnv != "" && !envName.MatchString(g.ClientSecretEnv):
		e.Add(pp+".graph.clientSecretEnv", "%q is not an environment variable name", g.ClientSecretEnv)
	case g.ClientSecretFile != "" && !strings.HasPrefix(g.ClientSecretFile, "/"):
		e.Add(pp+".graph.clientSecretFile", "give an absolute path")
	}
	if l := g.DefaultUsageLocation; l != "" && !usageLocation.MatchString(l) {
		e.Add(pp+".graph.defaultUsageLocation", "%q is not a two-letter country code (ISO 3166-1 alpha-2, e.g. US)", l)
	}
	return true
}

// IsMicrosoftProvider reports whether the instance connects to Microsoft.
func (p SnapshotProviderInstance) IsMicrosoftProvider() bool {
	return ProviderInstance{Provider: p.Provider}.IsMicrosoft()
}

var (
	envName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	usageLocation = regexp.MustCompile(`^[A-Z]{2}$`)
)

// validateProviderCustomers checks a customer's links and reports whether
// it is linked to a graph instance.
func validateProviderCustomers(cp string, links []SnapshotProviderCustomer, tenantInstances, graphInstances map[uuid.UUID]bool,
	parse func(place, v string) (uuid.UUID, bool), e *Error) bool {
	seen := map[uuid.UUID]string{}
	linked := false
	for i, l := range links {
		lp := fmt.Sprintf("%s.providerCustomers[%d]", cp, i)
		if id, ok := parse(lp+".providerInstanceId", l.ProviderInstanceID); ok {
			switch {
			case !tenantInstances[id]:
				e.Add(lp+".providerInstanceId", "unknown provider instance %s in this tenant", id)
			case !graphInstances[id]:
				e.Add(lp+".providerInstanceId", "provider instance %s is not a graph instance; only graph instances take a Microsoft tenant link", id)
			case seen[id] != "":
				e.Add(lp+".providerInstanceId", "the customer is linked to provider instance %s twice (first at %s)", id, seen[id])
			default:
				seen[id], linked = lp, true
			}
		}
		parse(lp+".microsoftTenantId", l.MicrosoftTenantID)
	}
	return linked
}
