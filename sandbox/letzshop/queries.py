"""The query integrations send for a page of shipments (the spec's field set of the unconfirmed
query, with the state as a variable): shared by the simulator's tests and its benchmark."""

SHIPMENT_FIELDS = """
  id number state
  order {
    id number email total completedAt locale
    shipAddress { firstName lastName company streetName streetNumber city zipCode phone country { name iso } }
    billAddress { firstName lastName company streetName streetNumber city zipCode phone country { name iso } }
  }
  inventoryUnits {
    id state
    variant {
      id sku mpn price
      tradeId { number parser }
      product { name { en fr de } _brand { ... on Brand { name } } }
    }
  }
  tracking { code provider }
"""
PAGE_QUERY = f"""
query Page($state: ShipmentStateEnum, $first: Int, $after: String) {{
  shipments(state: $state, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {SHIPMENT_FIELDS} }}
  }}
}}
"""
