"""What people add: roster, annotations, alert rules and alerts, webhooks, audit."""
