"""AI-training clauses: sentence rules (en, fr), document diff, detection on diffs.

The example sentences are written for these tests, from how such clauses are
usually phrased; none is taken from the Open Terms Archive corpus (that one is
tested in ``test_corpus_detection.py``).
"""

from __future__ import annotations

import pytest

from notifications.ai_clauses import Detection, classify_sentence, detect
from notifications.document_diff import DocumentDiff, diff, sentence_key, sentences

# --- sentence rules --------------------------------------------------------

POSITIVES = [
    # English: introducing training
    "We use your posts, comments and photos to train our generative AI models.",
    "Your conversations with the assistant may be used to fine-tune large language models.",
    "Information you provide may be used for machine learning purposes.",
    "We train our artificial intelligence on the messages you send through the app.",
    "Customer Content may be used for the training and tuning of algorithms and models.",
    "By posting, you grant us a license to use your content, including to train "
    "machine-learning models.",
    "Personal information collected through the Services helps us develop artificial "
    "intelligence technology.",
    "Public posts from adult users will be used to train AI at Acme.",
    "Your data may be used to help our AI learn.",
    "We use the documents you upload as training data for our models.",
    "We may collect information that is publicly available online to help train our AI models.",
    # English: widening
    "We may also use your content to improve our AI models.",
    "We share your data with partners who may use it to train their own artificial "
    "intelligence models.",
    "Your prompts and the responses may be reviewed and used to develop new AI features.",
    "Content you upload may be used to build and improve our generative AI systems.",
    # English: negations that bear on something else
    "If you do not opt out, your chats will be used to train our models.",
    "Unless you object, we rely on legitimate interests to use your personal data for AI "
    "model training.",
    "We do not sell your data, but we use it to train our machine learning models.",
    "Our models are trained on your public content, and we don't sell it.",
    # French
    "Nous pouvons utiliser vos contenus pour entraîner nos modèles d'intelligence artificielle.",
    "Vos données personnelles pourront être utilisées pour l'entraînement de nos modèles d'IA.",
    "Nous utilisons vos publications et commentaires publics afin de développer et "
    "d'améliorer nos systèmes d'intelligence artificielle générative.",
    "Les informations que vous nous fournissez peuvent servir à l'apprentissage automatique "
    "de nos algorithmes.",
    "Nous pourrons également exploiter vos conversations avec l'assistant afin d'affiner nos "
    "grands modèles de langage.",
    "Vos invites et les réponses générées peuvent être utilisées pour entraîner et améliorer "
    "notre IA.",
    "Les contenus publiés par nos membres sont utilisés pour former nos modèles d'IA.",
    "Nous ne vendons pas vos données, mais nous les utilisons pour entraîner nos modèles.",
    "Sauf opposition de votre part, vos messages serviront à l'amélioration de nos modèles "
    "d'IA générative.",
    "Les données des utilisateurs sont traitées à des fins d'apprentissage automatique.",
    "Nous pouvons partager vos informations avec des tiers qui les utiliseront pour entraîner "
    "leurs propres modèles d'IA.",
    "Les enregistrements de vos appels peuvent être utilisés pour améliorer nos algorithmes "
    "d'apprentissage automatique.",
    "Si vous ne vous y opposez pas, vos photos publiques serviront à entraîner notre IA.",
]

NEGATIVES = [
    # English: promises not to train
    "We will not use your content to train our AI models.",
    "We do not train our models on your personal data.",
    "We never use your private messages to train artificial intelligence.",
    "Your content is not used for AI training.",
    "Our models are not trained on your data.",
    "We don't train generative AI models on your conversations.",
    "Without using your data to train any model, our assistant can summarise your documents.",
    "No personal data is used to train our machine learning models.",
    "Our models are trained on licensed datasets, not on your content.",
    "Our models are trained on publicly available data, not on your messages.",
    "Acme will not use audio, video or chat Customer Content to train our artificial "
    "intelligence models without your consent.",
    "We will never sell your data or use it to train AI models.",
    "We may use aggregated or de-identified information to train our models.",
    # English: AI features without training; training without AI
    "Our AI features help you write better posts.",
    "You can use AI to write your profile summary.",
    "Content generated by AI may be inaccurate or incomplete.",
    "We use machine learning to detect spam in your messages.",
    "We use AI to improve your feed and recommend posts.",
    "Our AI assistant can answer questions about your documents.",
    "We provide privacy training to staff who handle your personal data.",
    "We rely on standard contractual clauses (model clauses) to transfer your personal data.",
    "You may opt out of AI training at any time in your settings.",
    # French: promises not to train
    "Nous n'utilisons pas vos données personnelles pour entraîner nos modèles d'intelligence "
    "artificielle.",
    "Vos contenus ne seront jamais utilisés pour l'entraînement de modèles d'IA.",
    "Nous n'entraînons pas nos modèles sur vos conversations.",
    "Aucune de vos données n'est utilisée pour entraîner nos modèles d'IA.",
    "Sans utiliser vos données pour entraîner nos modèles, nous améliorons nos services.",
    "Vos messages ne sont en aucun cas utilisés pour entraîner une intelligence artificielle.",
    "Nous n'utiliserons jamais vos conversations privées pour améliorer nos modèles d'IA.",
    "Les données anonymisées peuvent servir à entraîner nos algorithmes.",
    # French: AI features without training; "entraîner" meaning "to entail"
    "Nos fonctionnalités d'IA vous aident à rédiger vos publications.",
    "Vous pouvez utiliser l'IA pour rédiger vos messages.",
    "Les contenus générés par l'IA peuvent être inexacts.",
    "Nous utilisons l'apprentissage automatique pour détecter les messages indésirables.",
    "Nous proposons des formations à la protection des données à nos employés.",
    "L'utilisation de l'IA entraîne des risques pour vos données.",
]


def test_there_are_enough_examples_in_both_languages() -> None:
    def french(sentence: str) -> bool:
        return any(word in sentence.split() for word in ("nous", "Nous", "vos", "Vos", "les"))

    for examples in (POSITIVES, NEGATIVES):
        assert len([s for s in examples if not french(s)]) >= 15
        assert len([s for s in examples if french(s)]) >= 10


@pytest.mark.parametrize("sentence", POSITIVES)
def test_positive_sentences_are_flagged(sentence: str) -> None:
    rule = classify_sentence(sentence)
    assert rule is not None, sentence
    training, data = rule.split("/")
    assert training in {"train-model", "develop-ai", "ml-purpose"}
    assert data in {
        "personal-data",
        "possessive-data",
        "user-content",
        "described-data",
        "public-data",
        "defined-term",
    }


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_negative_sentences_are_not_flagged(sentence: str) -> None:
    assert classify_sentence(sentence) is None, sentence


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("We may also use your content to improve our AI models.", "develop-ai/possessive-data"),
        ("We may use your personal data to train our models.", "train-model/personal-data"),
        ("Your data is used for machine learning purposes.", "ml-purpose/possessive-data"),
        ("We train our models on the information you provide.", "train-model/described-data"),
        ("Service Generated Data may be used to train algorithms.", "train-model/defined-term"),
        ("Nous entraînons l'IA sur vos publications.", "train-model/possessive-data"),
    ],
)
def test_rules_name_the_cues(sentence: str, rule: str) -> None:
    assert classify_sentence(sentence) == rule


# --- sentences() -----------------------------------------------------------


def test_sentences_strip_markup() -> None:
    markdown = (
        "# Privacy **Policy**\n\n"
        'We use [your data](https://example.com/data "title") to *run* the __service__. '
        "See <a href='x'>this</a>&nbsp;page.\n\n"
        "* First item\n"
        "- Second `item`\n"
        "1. Third item\n\n"
        "> Quoted text.\n\n"
        "| Purpose | Data |\n|---|:---:|\n| Ads | Clicks<br>Views |\n\n"
        "---\n\n"
        "Title\n=====\n"
    )
    assert sentences(markdown) == [
        "Privacy Policy",
        "We use your data to run the service.",
        "See this page.",
        "First item",
        "Second item",
        "Third item",
        "Quoted text.",
        "Purpose",
        "Data",
        "Ads",
        "Clicks",
        "Views",
        "Title",
    ]


def test_sentences_normalize_whitespace_and_typography() -> None:
    text = (
        "We\u00a0use  your\n data\u200b.  L\u2019IA \u00ab\u00a0apprend\u00a0\u00bb. "
        "\u201cQuoted\u201d text\u202f!"
    )
    assert sentences(text) == ["We use your data.", 'L\'IA "apprend".', '"Quoted" text !']


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We collect data (e.g. your name, i.e. what you type, etc.) from Acme Inc. and "
            "U.S. partners. Version 2.5 applies.",
            [
                "We collect data (e.g. your name, i.e. what you type, etc.) from Acme Inc. and "
                "U.S. partners.",
                "Version 2.5 applies.",
            ],
        ),
        ("Does it? Yes! It does… Next.", ["Does it?", "Yes!", "It does…", "Next."]),
        (
            "Nous collectons, p. ex. votre nom. Voir l'art. 6 du RGPD. M. Dupont est DPO. "
            "Qu'est-ce que l'IA\u202f? La réponse.",
            [
                "Nous collectons, p. ex. votre nom.",
                "Voir l'art. 6 du RGPD.",
                "M. Dupont est DPO.",
                "Qu'est-ce que l'IA ?",
                "La réponse.",
            ],
        ),
        ("2\\. Uses of Personal Data\n---", ["2. Uses of Personal Data"]),
        ("1. First.\n2. Second.", ["First.", "Second."]),
        (
            "We are X. Our users post on X. They agree.",
            ["We are X.", "Our users post on X.", "They agree."],
        ),
        ("Dear users: we use data; we keep it.", ["Dear users: we use data; we keep it."]),
    ],
)
def test_sentences_split(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentence_key_ignores_case_punctuation_and_spacing() -> None:
    assert sentence_key("We use  your data, “mostly”.") == sentence_key("we use your data mostly")
    assert sentence_key("Vos données.") == "vos données"


# --- diff() ------------------------------------------------------------------

OLD = """# Terms

We provide the service. We keep your data safe.

* You must be 16.
* Be nice.
"""


def test_reordering_is_not_a_change() -> None:
    new = """# Terms

* Be nice.
* You must be 16.

We keep your data safe. We provide the service.
"""
    assert diff(OLD, new) == DocumentDiff(added=(), removed=())


def test_markup_is_not_a_change() -> None:
    new = """Terms
=====

We provide the **service**. We keep [your data](https://example.com/privacy) _safe_!

- You must be 16.
- Be nice.
"""
    assert diff(OLD, new) == DocumentDiff(added=(), removed=())


def test_whitespace_is_not_a_change() -> None:
    new = (
        "#   Terms\n\n\nWe  provide the\nservice.\u00a0We keep   your data safe.\n\n"
        "*  You must be 16.\n*\tBe nice.\n"
    )
    assert diff(OLD, new) == DocumentDiff(added=(), removed=())


def test_added_and_removed_sentences() -> None:
    new = OLD.replace("Be nice.", "Be kind.") + "\nWe may use your posts to train our AI models.\n"
    result = diff(OLD, new)
    assert result.added == ("Be kind.", "We may use your posts to train our AI models.")
    assert result.removed == ("Be nice.",)


def test_a_sentence_already_in_the_old_version_is_not_added() -> None:
    old = "Intro.\n\nWe may use your posts to train our AI models.\n"
    new = "## Other section\n\nWe may use your posts to train our AI models.\n\nIntro.\n"
    assert diff(old, new).added == ("Other section",)


def test_diff_records_the_structure_around_a_sentence() -> None:
    new = (
        "We use your data for the following purposes:\n\n"
        "* To train our models.\n\n"
        "| Purpose | Data |\n|---|---|\n| Improve AI | Your posts |\n"
    )
    result = diff("", new)
    item = result.added.index("To train our models.")
    assert result.context_of_added(item).lead_ins == (
        "We use your data for the following purposes:",
    )
    cell = result.added.index("Improve AI")
    assert result.context_of_added(cell).row == ("Your posts",)


# --- detect() ----------------------------------------------------------------

BASE = """# Privacy policy

We collect your name and email address. We use your data to provide the service.

## How we use information

We use your information for the following purposes:

* To provide the service.
* To keep the service safe.
"""


def detect_change(old: str, new: str) -> Detection:
    return detect(diff(old, new))


def test_widening_is_flagged_with_its_evidence() -> None:
    new = BASE + "\nWe may also use your content to improve our AI models.\n"
    detection = detect_change(BASE, new)
    assert detection == Detection(
        flagged=True,
        evidence=("We may also use your content to improve our AI models.",),
        rules=("develop-ai/possessive-data",),
    )


def test_sentences_already_there_are_not_flagged() -> None:
    old = BASE + "\nWe use your posts to train our AI models.\n"
    new = old.replace("email address", "phone number") + "\nContact us at dpo@example.com.\n"
    assert not detect_change(old, new).flagged


def test_promise_not_to_train_is_not_flagged() -> None:
    new = BASE + "\nWe will not use your content to train AI models.\n"
    assert detect_change(BASE, new) == Detection(flagged=False, evidence=(), rules=())


def test_ai_feature_without_training_is_not_flagged() -> None:
    new = BASE + (
        "\n## Generative AI features\n\nOur AI features help you write posts. "
        "Content generated by AI may be inaccurate.\n"
    )
    assert not detect_change(BASE, new).flagged


def test_a_list_item_is_read_with_its_lead_in() -> None:
    new = BASE.replace(
        "* To keep the service safe.",
        "* To keep the service safe.\n* To conduct research, including training our models.",
    )
    detection = detect_change(BASE, new)
    assert detection.evidence == ("To conduct research, including training our models.",)
    assert detection.rules == ("lead-in:train-model/possessive-data",)


def test_a_negated_lead_in_is_not_flagged() -> None:
    old = "We do not use the following data to train our AI models:\n\n* Your messages\n"
    new = old + "* Your photos\n"
    assert not detect_change(old, new).flagged


def test_a_table_cell_is_read_with_its_row() -> None:
    old = (
        "| Purpose | Data | Legal basis |\n|---|---|---|\n"
        "| Provide the service | Account data | Contract |\n"
    )
    new = old + (
        "| Develop and improve our AI technology | Public posts you share "
        "| Legitimate interests |\n"
    )
    detection = detect_change(old, new)
    assert detection.evidence == (
        "Develop and improve our AI technology",
        "Public posts you share",
    )
    assert all(rule.startswith("table-row:") for rule in detection.rules)


def test_a_row_whose_purpose_excludes_training_is_not_flagged() -> None:
    old = "| Purpose | Data |\n|---|---|\n| Research (excluding model training) | Feedback |\n"
    new = old.replace("Feedback", "Feedback<br>Your prompts")
    assert not detect_change(old, new).flagged


def test_the_antecedent_of_this_information_is_quoted() -> None:
    new = BASE + (
        "\nWe will use public posts and comments from adults. "
        "We'll use this information to develop and improve generative AI models.\n"
    )
    detection = detect_change(BASE, new)
    assert detection.evidence == (
        "We will use public posts and comments from adults.",
        "We'll use this information to develop and improve generative AI models.",
    )
    assert detection.rules == ("antecedent", "develop-ai/described-data")


def test_rewording_an_existing_training_clause_is_not_flagged() -> None:
    old = BASE + "\nTwitter may use the information we collect to train its AI models.\n"
    new = BASE + "\nX may use the information we collect to train its AI models.\n"
    assert not detect_change(old, new).flagged


def test_adding_data_to_an_existing_training_clause_is_flagged() -> None:
    old = BASE + "\nWe may use your posts to train our AI models.\n"
    new = BASE + "\nWe may use your posts and private messages to train our AI models.\n"
    detection = detect_change(old, new)
    assert detection.evidence == (
        "We may use your posts and private messages to train our AI models.",
    )


def test_turning_a_promise_into_a_permission_is_flagged() -> None:
    old = BASE + "\nWe will not use your chats to train our models, unless you opt in.\n"
    new = BASE + "\nWe may use your chats to train our models, unless you opt out.\n"
    assert detect_change(old, new).evidence == (
        "We may use your chats to train our models, unless you opt out.",
    )


def test_french_document_change() -> None:
    old = "# Politique de confidentialité\n\nNous utilisons vos données pour fournir le service.\n"
    new = old + (
        "\nNous n'utilisons pas vos messages privés pour entraîner nos modèles. "
        "Vos publications publiques pourront servir à l'entraînement de nos modèles d'IA.\n"
    )
    detection = detect_change(old, new)
    assert detection.evidence == (
        "Vos publications publiques pourront servir à l'entraînement de nos modèles d'IA.",
    )


def test_detect_accepts_a_diff_built_by_hand() -> None:
    hand_made = DocumentDiff(
        added=("Our AI features help you.", "We may use your content to train AI models."),
        removed=(),
    )
    assert detect(hand_made).evidence == ("We may use your content to train AI models.",)
