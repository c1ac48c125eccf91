"""The portal shell's views: sign-in and second factor, home, health, error pages."""
