"""The canonical orders every channel lands in: staging and merge shared by Letzshop, Amazon and eBay."""
