"""What the bot knows about each kind of listing: the words that name it, the fields a buyer needs, and how the
fields are labelled. Kept as data, so adding a category is an edit here only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    keywords: tuple[str, ...]  # words in a note that name the category (matched as whole words)
    required: tuple[str, ...]  # a draft is not stored without these
    recommended: tuple[str, ...] = ()  # shown as a hint when missing
    brands: tuple[str, ...] = ()


COMMON_REQUIRED = ("title", "price", "condition", "location")

CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("bicycles", "Bicycles",
             ("bike", "bicycle", "e-bike", "ebike", "mtb", "cargo bike", "road bike", "fiets"),
             (*COMMON_REQUIRED, "brand", "size"), ("colour", "year"),
             ("Gazelle", "Cube", "Trek", "Giant", "Batavus", "Specialized", "Cannondale", "Brompton", "VanMoof")),
    Category("phones", "Phones & tablets",
             ("phone", "smartphone", "iphone", "tablet", "ipad", "galaxy", "pixel"),
             (*COMMON_REQUIRED, "brand", "storage"), ("colour", "model"),
             ("Samsung", "Apple", "Fairphone", "Nokia", "Google", "Xiaomi", "OnePlus", "Motorola")),
    Category("furniture", "Furniture",
             ("table", "sofa", "couch", "chair", "bookshelf", "wardrobe", "desk", "bed frame", "cabinet", "dresser"),
             COMMON_REQUIRED, ("dimensions", "material", "colour"),
             ("IKEA", "Hay", "Muuto", "Gautier", "Vitra", "Eames")),
    Category("cameras", "Cameras",
             ("camera", "lens", "tripod", "dslr", "mirrorless"),
             (*COMMON_REQUIRED, "brand"), ("model", "shutter_count"),
             ("Canon", "Nikon", "Sony", "Fujifilm", "Olympus", "Panasonic", "Leica")),
    Category("kitchen", "Kitchen appliances",
             ("espresso", "coffee machine", "mixer", "toaster", "fridge", "oven", "kettle", "blender",
              "dishwasher"),
             (*COMMON_REQUIRED, "brand"), ("model", "colour"),
             ("Bosch", "Smeg", "KitchenAid", "DeLonghi", "Siemens", "Philips", "Miele")),
    Category("clothing", "Clothing & shoes",
             ("jacket", "coat", "dress", "shirt", "jeans", "sneakers", "shoes", "boots", "trousers", "sweater"),
             (*COMMON_REQUIRED, "size"), ("brand", "colour", "material"),
             ("Nike", "Adidas", "Levi's", "Patagonia", "Zara", "H&M", "Uniqlo")),
    Category("property", "Property",
             ("apartment", "flat", "house", "studio", "condo", "bedroom", "bedrooms", "for rent", "for sale by owner"),
             ("title", "location", "area_m2", "beds"), ("baths", "year_built", "price")),
    Category("general", "Other",
             (), COMMON_REQUIRED, ("brand", "colour")),
)}

PROPERTY = "property"
DEFAULT_CATEGORY = "general"

# How a field is named to a person (messages, attribute tables, exports).
FIELD_LABELS = {
    "title": "title", "price": "price", "condition": "condition", "location": "location", "brand": "brand",
    "size": "size", "storage": "storage", "colour": "colour", "year": "year", "model": "model",
    "dimensions": "dimensions", "material": "material", "shutter_count": "shutter count",
    "area_m2": "floor area (m²)", "beds": "bedrooms", "baths": "bathrooms", "year_built": "year built",
    "property_type": "property type", "item": "item", "defects": "defects", "included": "included",
    "delivery": "pick-up / delivery", "currency": "currency",
}
CONDITIONS = ("new", "like new", "good", "fair", "needs repair")


def category_of(name: str | None) -> Category:
    """The category called `name` (case-insensitive, label or name); the general category when unknown."""
    key = (name or "").strip().lower()
    for category in CATEGORIES.values():
        if key in (category.name, category.label.lower()):
            return category
    return CATEGORIES[DEFAULT_CATEGORY]


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " "))
