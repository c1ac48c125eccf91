"""The portal's services: writes, each audited. Views call them; they never take a request."""
