"""What the demo marketplace sells: categories with brands, products and price ranges, and who sells."""

CATALOGUE = {
    "Bicycles": (
        ["Gazelle", "Cube", "Trek", "Giant", "Batavus"],
        ["city bike", "mountain bike", "cargo bike", "road bike", "folding bike"],
        (180, 1600),
    ),
    "Phones": (
        ["Samsung", "Apple", "Fairphone", "Nokia", "Google"],
        ["smartphone 128 GB", "smartphone 256 GB", "tablet 10 inch"],
        (90, 950),
    ),
    "Furniture": (
        ["IKEA", "Hay", "Muuto", "Gautier"],
        ["oak dining table", "three-seat sofa", "bookshelf", "office chair", "wardrobe"],
        (25, 900),
    ),
    "Cameras": (
        ["Canon", "Nikon", "Sony", "Fujifilm"],
        ["mirrorless camera body", "50 mm lens", "compact camera", "tripod"],
        (40, 1400),
    ),
    "Kitchen": (
        ["Bosch", "Smeg", "KitchenAid", "DeLonghi"],
        ["espresso machine", "stand mixer", "toaster", "fridge"],
        (20, 700),
    ),
}
COLOURS = ["black", "white", "red", "blue", "green", "grey", "silver"]
CONDITIONS = ["new", "like new", "good", "used", "needs repair"]
CITIES = ["Amsterdam", "Berlin", "Lyon", "Madrid", "Milano", "Utrecht", "Hamburg", "Toulouse", "Valencia"]
SELLERS = [
    "marta_k",
    "bikeshop24",
    "second-life-goods",
    "jonas.h",
    "camera-corner",
    "lea_vintage",
    "homeandco",
]
STOCK_TEXT = {"InStock": "In stock", "OutOfStock": "Sold out", "LimitedAvailability": "Only 1 left"}
