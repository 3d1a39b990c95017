package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cloudcockpit-oss/userlicenses/gen"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// GetCustomers implements GET /v1/Customers. The validator has already
// refused search fields and sort properties other than Company.Name.
func (s *Server) GetCustomers(c echo.Context, params gen.GetCustomersParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	q := licensing.CustomerQuery{Page: page(params.PageNumber, params.PageSize), ResellerID: params.ResellerId}
	if params.SearchValue != nil {
		q.Search = *params.SearchValue
	}
	if params.AscendingOrder != nil && !*params.AscendingOrder {
		q.Descending = true
	}
	res, err := s.svc.Customers(c.Request().Context(), p, q)
	if err != nil {
		return err
	}
	items := make([]gen.Customer, len(res.Items))
	for i, cu := range res.Items {
		items[i] = customerItem(cu)
	}
	pp, pages, prev, next := pageInfo(q.Page, res.Total)
	return c.JSON(http.StatusOK, gen.CustomersPage{
		Items: items, PaginationParameters: pp, TotalPages: pages, TotalCount: int32(res.Total),
		HasPreviousPage: prev, HasNextPage: next,
	})
}

// GetCustomer implements GET /v1/Customers/{customerId}.
func (s *Server) GetCustomer(c echo.Context, customerID gen.CustomerId, params gen.GetCustomerParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	cu, err := s.svc.CustomerByID(c.Request().Context(), p, customerID, params.ResellerId)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, customerItem(cu))
}

func customerItem(c licensing.Customer) gen.Customer {
	name := c.Name
	item := gen.Customer{Id: c.ID, CompanyName: &name, ResellerId: c.ResellerID}
	if c.ResellerName != "" {
		rn := c.ResellerName
		item.ResellerName = &rn
	}
	return item
}

// GetProviderInstances implements GET /v1/Providers/Instances.
func (s *Server) GetProviderInstances(c echo.Context, params gen.GetProviderInstancesParams) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	pg := page(params.PageNumber, params.PageSize)
	res, err := s.svc.ProviderInstances(c.Request().Context(), p, pg)
	if err != nil {
		return err
	}
	items := make([]gen.ProviderInstance, len(res.Items))
	for i, pi := range res.Items {
		alias := pi.Name
		// The contract promises the provider's name in lower case; seeds
		// may spell it "Microsoft".
		items[i] = gen.ProviderInstance{Id: pi.ID, Alias: &alias, Provider: gen.Provider{Name: strings.ToLower(pi.Provider)}}
	}
	pp, pages, prev, next := pageInfo(pg, res.Total)
	return c.JSON(http.StatusOK, gen.ProviderInstancesPage{
		Items: items, PaginationParameters: pp, TotalPages: pages, TotalCount: int32(res.Total),
		HasPreviousPage: prev, HasNextPage: next,
	})
}
