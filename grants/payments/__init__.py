"""Taking the lodge's share: the payment provider (Stripe or the dev stand-in) and its webhook."""
