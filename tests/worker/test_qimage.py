import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from t2i_studio.worker.qimage import array_to_qimage, pil_to_qimage


@pytest.mark.parametrize("mode,width", [("RGB", 7), ("RGB", 8), ("RGBA", 5), ("L", 3), ("P", 6)])
def test_pil_to_qimage_is_an_owned_copy_with_right_pixels(mode, width):
    src = Image.new("RGB", (width, 3), (10, 20, 30))
    src.putpixel((width - 1, 2), (200, 100, 50))
    image = src.convert(mode)
    expected = image.convert("RGB").getpixel((width - 1, 2))
    qimg = pil_to_qimage(image)
    del image, src
    assert (qimg.width(), qimg.height()) == (width, 3)
    color = qimg.pixelColor(width - 1, 2)
    if mode == "L":
        assert color.red() == color.green() == color.blue() == expected[0]
    else:
        assert (color.red(), color.green(), color.blue()) == expected


def test_array_to_qimage_detaches_from_the_array():
    arr = np.zeros((2, 5, 3), np.uint8)
    arr[1, 4] = (1, 2, 3)
    qimg = array_to_qimage(arr)
    arr[:] = 255
    assert qimg.pixelColor(4, 1).getRgb()[:3] == (1, 2, 3)
    assert qimg.format() == QImage.Format.Format_RGB888


def test_array_to_qimage_rejects_bad_input():
    with pytest.raises(ValueError):
        array_to_qimage(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError):
        array_to_qimage(np.zeros((2, 2, 2), np.uint8))

