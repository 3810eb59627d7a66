from PIL import Image as PILImage

from search.captioner import Captioner, get_captioner, model_key_for


def test_loads_from_a_local_folder_through_the_setting(captioner, tiny_blip_dir):
    assert captioner.name_or_path == str(tiny_blip_dir)
    assert captioner.model_key == model_key_for(str(tiny_blip_dir))
    assert captioner.model_key.startswith("tiny-blip@")
    assert get_captioner() is captioner  # one per process


def test_hub_names_are_their_own_key():
    assert model_key_for("Salesforce/blip-image-captioning-base") == "Salesforce/blip-image-captioning-base"


def test_captions_in_batches_of_the_batch_size(tiny_blip_dir):
    captioner = Captioner(str(tiny_blip_dir), batch_size=2, max_tokens=4)
    calls = []
    generate = captioner.model.generate

    def counting_generate(**inputs):
        calls.append(inputs["pixel_values"].shape[0])
        return generate(**inputs)

    captioner.model.generate = counting_generate
    images = [
        PILImage.new("RGB", (40 + i, 30), colour) for i, colour in enumerate(["red", "blue", "green", "gray", "white"])
    ]

    captions = captioner.caption(images)

    assert calls == [2, 2, 1]
    assert len(captions) == 5
    assert all(isinstance(caption, str) and "\n" not in caption and len(caption) <= 500 for caption in captions)


def test_greyscale_and_transparent_images_are_captioned(tiny_blip_dir):
    captioner = Captioner(str(tiny_blip_dir), batch_size=4, max_tokens=4)

    captions = captioner.caption([PILImage.new("L", (20, 20), 128), PILImage.new("RGBA", (20, 20), (0, 0, 0, 0))])

    assert len(captions) == 2
