"""E-mail, the channel that delivers digital keys to the buyer: through the store's own SMTP server (its
e-mail account), each delivery a write of the outbound queue."""
