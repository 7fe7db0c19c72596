"""Small stop-word lists for the main web languages, shipped in code so nothing is downloaded.

Gopher and FineWeb use the presence of common function words as a cheap test that a text is
running prose rather than navigation, keyword lists or markup. The lists only need the most
frequent function words of each language: presence, not coverage, is what is measured.
"""

from __future__ import annotations

import re

_LISTS = {
    "en": "the be to of and a in that have it is was for on with as at by from this are not or but an",
    "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an als wie",
    "fr": "le la les de des et est un une du en que qui dans pour pas sur au avec il elle ce sont ne",
    "es": "el la los las de del y que en un una es por con para no se su al lo como más pero sus",
    "it": "il la le di che e è un una per non in del della con si sono da al gli lo ma come anche",
    "pt": "o a os as de do da dos das e que em um uma para com não no na se por mais como ao",
    "nl": "de het een en van in is dat op te zijn niet met voor er aan ook als maar om dan",
    "sv": "och att det som en på är av för med till den har de inte om ett var jag men",
    "da": "og i at det er en til på med for af den som de ikke har et var jeg men",
    "no": "og i det er som en på til av for med at den ikke har et de var jeg men",
    "pl": "i w nie na się z że do to jest jak o po co ale od tak za przez są",
    "cs": "a se na je že v to s z do o jako ale by pro jsou tak jeho který",
    "ro": "și în de la cu pe că nu o un este din care sunt mai pentru ce se",
    "hu": "a az és hogy nem is egy van meg de csak már el ki ez volt mint",
    "fi": "ja on ei se että oli hän mutta kun ovat tai myös niin joka kuin",
    "tr": "ve bir bu da de için ile ne çok daha olarak gibi ama en var olan kadar",
    "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke ada karena atau",
    "ru": "и в не на что с он по как это из но за то от к для так же все она был",
    "uk": "і в не на що з як це до та по за від але він його для так вона",
    "el": "και το να η ο της του τα με σε που από για είναι οι στο δεν",
    "ar": "في من على أن إلى عن مع هذا هذه التي الذي كان لا ما هو هي",
    "fa": "و در به از که این را با است برای آن یک تا می",
    "hi": "के है में की और से को का एक पर यह भी था हैं नहीं कि",
    "ko": "그 이 저 것 수 등 및 또는 그리고 있는 있다 하는 했다 위해 대한",
    "vi": "và của là có không được trong cho với các những này một người đã",
}
STOP_WORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _LISTS.items()}
ALL_STOP_WORDS: frozenset[str] = frozenset().union(*STOP_WORDS.values())

# Chinese and Japanese are not written with spaces, so their function words are counted as
# characters instead of tokens.
CJK_STOP_CHARS = "的了是在不和有人这中大为上个我们他也就说着之与而及或其の は が を に で と も た"
CJK_STOP_CHAR_PATTERN = re.compile("[" + CJK_STOP_CHARS.replace(" ", "") + "]")
