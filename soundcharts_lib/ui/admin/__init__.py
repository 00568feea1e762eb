"""Widget builders of the admin pages."""
