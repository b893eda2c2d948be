-- One step of a purchase: its new status, and whatever the step learnt (NULL keeps what was known).
UPDATE ops.digital_purchases SET
    status = :status,
    reason = :reason,
    supplier_order_id = coalesce(:supplier_order_id, supplier_order_id),
    charged_unit_price = coalesce(:charged_unit_price, charged_unit_price),
    attempts = attempts + :sent,
    sent_at = CASE WHEN :sent = 1 THEN now() ELSE sent_at END,
    next_check_at = now() + make_interval(secs => :wait_seconds),
    updated_at = now()
WHERE purchase_id = :purchase_id
