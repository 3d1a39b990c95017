package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// caller returns the authenticated principal; guard guarantees it on every
// secured route, so its absence is a wiring bug.
func caller(c echo.Context) (licensing.Principal, error) {
	p, ok := principal(c)
	if !ok {
		return p, licensing.Errorf(licensing.Internal, "no authenticated principal on a secured route")
	}
	return p, nil
}

// UpdateCustomerUserLicenses implements PATCH .../users/{customerUserId}/licenses.
func (s *Server) UpdateCustomerUserLicenses(c echo.Context, customerID gen.CustomerId, userID gen.CustomerUserId, _ gen.UpdateCustomerUserLicensesParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	// The very bytes the guard checked and the validator accepted: no key
	// twice, none unknown, so this decoding cannot read anything else.
	var body gen.UpdateCustomerUserLicensesRequest
	if err := json.Unmarshal(requestBody(c), &body); err != nil {
		return licensing.Wrap(licensing.Internal, err, "An internal error occurred.")
	}
	sel := make([]licensing.Selection, len(body.CustomerUserLicenses))
	for i, l := range body.CustomerUserLicenses {
		sel[i] = licensing.Selection{SKUID: l.SkuId, Selected: l.IsSelected}
	}
	_, err = s.svc.UpdateUserLicenses(c.Request().Context(), p,
		licensing.Actor{Subject: p.Subject, CorrelationID: correlationID(c)},
		licensing.UpdateUserLicenses{CustomerID: customerID, UserID: userID, ProviderInstanceID: body.ProviderInstanceId, Selections: sel})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// GetCustomerUserLicenses implements GET .../users/{customerUserId}/licenses.
func (s *Server) GetCustomerUserLicenses(c echo.Context, customerID gen.CustomerId, userID gen.CustomerUserId, params gen.GetCustomerUserLicensesParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ls, err := s.svc.UserLicenses(c.Request().Context(), p, licensing.UserRef{
		CustomerID: customerID, UserID: userID, ProviderInstanceID: params.ProviderInstanceId})
	if err != nil {
		return err
	}
	out := make([]gen.CustomerUserLicense, len(ls))
	for i, l := range ls {
		out[i] = licenseItem(l.License, l.Selected)
	}
	return c.JSON(http.StatusOK, out)
}

// GetCustomerLicenses implements GET /v1/Customers/{customerId}/licenses.
func (s *Server) GetCustomerLicenses(c echo.Context, customerID gen.CustomerId, params gen.GetCustomerLicensesParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	ls, err := s.svc.CustomerLicenses(c.Request().Context(), p, customerID, params.ProviderInstanceId, params.ResellerId)
	if err != nil {
		return err
	}
	out := make([]gen.CustomerUserLicense, len(ls))
	for i, l := range ls {
		out[i] = licenseItem(l, false)
	}
	return c.JSON(http.StatusOK, out)
}

func licenseItem(l licensing.License, selected bool) gen.CustomerUserLicense {
	name, avail, total, consumed, suspended := l.Name, l.Available(), l.Total, l.Consumed, l.Suspended
	return gen.CustomerUserLicense{
		SkuId: l.SKUID, Name: &name, IsSelected: selected, AvailableLicenses: &avail,
		TotalLicenses: &total, ConsumedLicenses: &consumed, SuspendedLicenses: &suspended,
	}
}

// page fills in the published defaults of the paging parameters; the
// validator has already enforced their ranges.
func page(number, size *int32) licensing.Page {
	p := licensing.Page{Number: 1, Size: 25}
	if number != nil {
		p.Number = int(*number)
	}
	if size != nil {
		p.Size = int(*size)
	}
	return p
}

func pageInfo(p licensing.Page, total int) (gen.PaginationParameters, int32, bool, bool) {
	pages := (total + p.Size - 1) / p.Size
	return gen.PaginationParameters{PageNumber: int32(p.Number), PageSize: int32(p.Size)},
		int32(pages), p.Number > 1, p.Number < pages
}

// GetCustomerUsers implements GET /v1/Customers/{customerId}/users.
func (s *Server) GetCustomerUsers(c echo.Context, customerID gen.CustomerId, params gen.GetCustomerUsersParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	q := licensing.UserQuery{Page: page(params.PageNumber, params.PageSize), Sort: licensing.SortDisplayName}
	if params.Search != nil {
		q.Search = *params.Search
	}
	if params.Sort != nil {
		q.Sort = licensing.UserSort(*params.Sort)
	}
	// seek and continuationToken: keyset paging (usercursor.go).
	number, err := seekUsers(&q, params)
	if err != nil {
		return err
	}
	res, err := s.svc.Users(c.Request().Context(), p, customerID, params.ProviderInstanceId, params.ResellerId, q)
	if err != nil {
		return err
	}
	if q.Last {
		number = res.Number
	}
	q.Page.Number = number
	items := make([]gen.CustomerUser, len(res.Items))
	for i, u := range res.Items {
		items[i] = gen.CustomerUser{Id: u.ID, DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName}
	}
	pp, pages, prev, next := pageInfo(q.Page, res.Total)
	return c.JSON(http.StatusOK, gen.CustomerUsersPage{
		Items: items, PaginationParameters: pp, TotalPages: pages, TotalCount: int32(res.Total),
		HasPreviousPage: prev, HasNextPage: next, ContinuationToken: encodeUserCursor(q, number, res.Items),
	})
}

// GetAuditLogs implements GET /v1/AuditLogs.
func (s *Server) GetAuditLogs(c echo.Context, params gen.GetAuditLogsParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	q := licensing.AuditQuery{
		Page: page(params.PageNumber, params.PageSize), Start: params.StartDate, End: params.EndDate,
		ResellerID: params.ResellerId, CorrelationID: params.CorrelationId, CustomerID: params.CustomerId,
	}
	if params.Operations != nil {
		for _, op := range splitOperations(*params.Operations) {
			q.Operations = append(q.Operations, licensing.Operation(op))
		}
	}
	if params.Status != nil {
		q.Status = licensing.Status(*params.Status)
	}
	if params.Customer != nil {
		q.CustomerName = *params.Customer
	}
	if params.Reseller != nil {
		q.ResellerName = *params.Reseller
	}
	res, err := s.svc.AuditRecords(c.Request().Context(), p, q)
	if err != nil {
		return err
	}
	items := make([]gen.AuditLog, len(res.Items))
	for i, r := range res.Items {
		items[i] = auditItem(r)
	}
	pp, pages, prev, _ := pageInfo(q.Page, res.Total)
	// The total is capped (licensing.AuditCountLimit); whether a page
	// follows is the store's to say.
	next := res.HasNext
	return c.JSON(http.StatusOK, gen.AuditLogsPage{
		Items: items, PaginationParameters: pp, TotalPages: pages, TotalCount: int32(res.Total),
		HasPreviousPage: prev, HasNextPage: next,
	})
}

// splitOperations splits the published `a|b|c` form, ignoring blanks.
func splitOperations(s string) []string {
	var out []string
	for _, op := range strings.Split(s, "|") {
		if op = strings.TrimSpace(op); op != "" {
			out = append(out, op)
		}
	}
	return out
}

func auditItem(r licensing.AuditRecord) gen.AuditLog {
	item := gen.AuditLog{
		Id: r.ID, CreatedAt: r.CreatedAt, Actor: r.Actor, CorrelationId: r.CorrelationID,
		Operation: gen.AuditLogOperation(r.Operation), Status: gen.AuditLogStatus(r.Status),
		CustomerId: r.CustomerID, CustomerName: r.CustomerName, ResellerId: r.ResellerID,
		CustomerUserId: r.UserID, ProviderInstanceId: r.ProviderInstanceID, SkuId: r.SKUID,
	}
	if r.ResellerName != "" {
		name := r.ResellerName
		item.ResellerName = &name
	}
	if r.SKUName != "" {
		name := r.SKUName
		item.SkuName = &name
	}
	if r.Reason != "" {
		reason := r.Reason
		item.Reason = &reason
	}
	return item
}

// GetHealth implements GET /healthz: the process answers, nothing more.
func (s *Server) GetHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, gen.HealthStatus{Status: "ok"})
}

// GetReadiness implements GET /readyz: the store is reachable and migrated.
func (s *Server) GetReadiness(c echo.Context) error {
	if s.ready != nil {
		if err := s.ready(c.Request().Context()); err != nil {
			return licensing.Wrap(licensing.Unavailable, err, "The database is not ready.")
		}
	}
	return c.JSON(http.StatusOK, gen.HealthStatus{Status: "ok"})
}
