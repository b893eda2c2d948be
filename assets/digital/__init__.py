"""Digital goods (issue 13): license keys sold as products, from the merchant's pool (`keys`) or bought
from the supplier, each delivered to exactly one order item unit."""
