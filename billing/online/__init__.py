"""Online card payment (issue 6 scope 6; M-10, M-11): a provider interface with a Stripe
Checkout adapter and a local sandbox adapter, the checkout and webhook services and pages."""
