// Package licensing holds the domain of customer user licenses: the types,
// the seat rules, the service that applies them and the interfaces of the
// stores that keep the data. It knows neither HTTP nor SQL.
package licensing

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Role is what a token allows its bearer to act as.
type Role string

// The roles that grant access.
const (
	RoleCSP      Role = "csp"
	RoleReseller Role = "reseller"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Subject    string
	Tenant     string
	Roles      []Role
	ResellerID *uuid.UUID
}

// Has reports whether the principal holds the role. Roles compare exactly
// after NormalizeRole, so that scoping and authorization agree on a
// principal however it was built, and no Unicode folding turns another
// string into a role (strings.EqualFold matches "cſp", with U+017F, to
// "csp").
func (p Principal) Has(r Role) bool {
	for _, have := range p.Roles {
		if NormalizeRole(string(have)) == r {
			return true
		}
	}
	return false
}

// NormalizeRole is the canonical form of a role name: trimmed and lower
// case in ASCII only.
func NormalizeRole(s string) Role { return Role(asciiLower(strings.TrimSpace(s))) }

// asciiLower lower-cases ASCII letters and leaves every other byte alone.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Scope is what the principal may see: a csp sees its whole tenant, a
// reseller (without the csp role) only its own customers.
func (p Principal) Scope() Scope {
	s := Scope{Tenant: NormalizeTenant(p.Tenant)}
	if !p.Has(RoleCSP) && p.Has(RoleReseller) {
		s.ResellerID = p.ResellerID
	}
	return s
}

// Scope limits the customers a read or write can reach.
type Scope struct {
	Tenant string
	// ResellerID, when set, limits the scope to that reseller's customers.
	ResellerID *uuid.UUID
}

// Allows reports whether a customer lies inside the scope.
func (s Scope) Allows(c Customer) bool {
	if s.ResellerID == nil {
		return true
	}
	return c.ResellerID != nil && *c.ResellerID == *s.ResellerID
}

// NormalizeTenant returns the canonical form of a portal domain: tenants
// are compared case-insensitively, in ASCII only (DNS names are ASCII;
// Unicode folding would match U+212A K to k).
func NormalizeTenant(domain string) string {
	return asciiLower(strings.TrimSpace(domain))
}

// ProviderMicrosoft is the provider whose customers have user licenses.
const ProviderMicrosoft = "microsoft"

// ProviderInstance is one connection of a portal to a provider.
type ProviderInstance struct {
	ID       uuid.UUID
	Name     string
	Provider string
	// Directory is where the instance's seats live: DirectoryLocal (this
	// store) or DirectoryGraph (the customers' Microsoft 365 tenants). The
	// zero value means DirectoryLocal.
	Directory string
	// Graph is the partner app of a graph instance (nil otherwise).
	Graph *GraphApp
}

// The directory kinds of a provider instance.
const (
	DirectoryLocal = "local"
	DirectoryGraph = "graph"
)

// IsGraph reports whether the instance's seats live in Microsoft Graph.
func (p ProviderInstance) IsGraph() bool { return p.Directory == DirectoryGraph }

// GraphApp is the partner's multitenant Entra app a graph instance signs in
// with: its id and where to read its secret (an environment variable or a
// file), never the secret itself.
type GraphApp struct {
	ClientID         string
	ClientSecretEnv  string
	ClientSecretFile string
	// DefaultUsageLocation, when set (ISO 3166-1 alpha-2), is given to a
	// user without a usage location when an assignment needs one, once,
	// audited.
	DefaultUsageLocation string
}

// IsMicrosoft reports whether the instance connects to Microsoft, the only
// provider whose users carry licenses.
func (p ProviderInstance) IsMicrosoft() bool {
	return strings.EqualFold(p.Provider, ProviderMicrosoft)
}

// Customer is a customer of the portal, possibly under a reseller.
type Customer struct {
	ID           uuid.UUID
	Name         string
	ResellerID   *uuid.UUID
	ResellerName string
}

// User is a user in a customer's directory.
type User struct {
	ID                uuid.UUID
	DisplayName       string
	UserPrincipalName string
}

// License is a customer's seats of one SKU under one provider instance.
type License struct {
	SKUID     uuid.UUID
	Name      string
	Total     int32
	Suspended int32
	// Consumed counts the users holding the SKU.
	Consumed int32
}

// Available is the number of seats that can still be assigned.
func (l License) Available() int32 {
	if a := l.Total - l.Suspended - l.Consumed; a > 0 {
		return a
	}
	return 0
}

// UserLicense is a license with whether one user holds it.
type UserLicense struct {
	License
	Selected bool
}

// UserRef names one user of one customer under one provider instance.
type UserRef struct {
	Tenant             string
	CustomerID         uuid.UUID
	UserID             uuid.UUID
	ProviderInstanceID uuid.UUID
}

// Selection is one item of an update: assign (Selected) or remove a SKU.
type Selection struct {
	SKUID    uuid.UUID
	Selected bool
}

// Change is one assignment or removal an update makes.
type Change struct {
	SKUID   uuid.UUID
	SKUName string
	Assign  bool
}

// Operation returns the audit operation recording the change.
func (c Change) Operation() Operation {
	if c.Assign {
		return OperationAssign
	}
	return OperationRemove
}

// Seats is what the seat rules need to decide an update: the customer's
// licenses (with consumption) and the SKUs the user holds.
type Seats struct {
	Licenses []License
	Held     map[uuid.UUID]bool
}

// Operation names an audited change.
type Operation string

// The audited operations.
const (
	OperationAssign Operation = "AssignUserLicense"
	OperationRemove Operation = "RemoveUserLicense"
)

// Status is the status of an audited operation, in the published spelling.
type Status string

// The audit statuses.
const (
	StatusProcessing Status = "Processing"
	StatusSucceeded  Status = "Succeded"
	StatusFailed     Status = "Failed"
)

// Actor says who makes a change and under which correlation id, for the
// audit records the change writes.
type Actor struct {
	Subject       string
	CorrelationID uuid.UUID
}

// AuditRecord is one change made by one request.
type AuditRecord struct {
	ID                 uuid.UUID
	CreatedAt          time.Time
	Tenant             string
	Actor              string
	CorrelationID      uuid.UUID
	Operation          Operation
	Status             Status
	CustomerID         uuid.UUID
	CustomerName       string
	ResellerID         *uuid.UUID
	ResellerName       string
	UserID             uuid.UUID
	ProviderInstanceID uuid.UUID
	SKUID              uuid.UUID
	SKUName            string
	// Reason says why a Failed change was refused (empty otherwise).
	Reason string
}

// Page asks for one page of a list, numbered from 1.
type Page struct {
	Number int
	Size   int
}

// Offset is the number of items before the page.
func (p Page) Offset() int { return (p.Number - 1) * p.Size }

// UserSort orders a user list.
type UserSort string

// The user list orders.
const (
	SortDisplayName       UserSort = "DisplayName"
	SortUserPrincipalName UserSort = "UserPrincipalName"
)

// UserQuery selects one page of a customer's users.
type UserQuery struct {
	Page   Page
	Search string
	Sort   UserSort
}

// UserPage is one page of users and how many match in all.
type UserPage struct {
	Items []User
	Total int
}

// AuditQuery selects one page of audit records, newest first. Empty fields
// do not filter.
type AuditQuery struct {
	Scope         Scope
	Page          Page
	Start, End    *time.Time
	Operations    []Operation
	Status        Status
	CustomerName  string
	ResellerName  string
	ResellerID    *uuid.UUID
	CorrelationID *uuid.UUID
	CustomerID    *uuid.UUID
}

// AuditCountLimit caps AuditPage.Total: counting every match of a filter
// over millions of records would scan them on every page, so a store
// counts at most this many (and says HasNext from the page itself).
const AuditCountLimit = 10000

// AuditPage is one page of audit records, how many match in all (at most
// AuditCountLimit) and whether a page follows.
type AuditPage struct {
	Items   []AuditRecord
	Total   int
	HasNext bool
}
