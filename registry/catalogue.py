"""The standard service catalogue of a Disdukcapil office, seeded into new offices.

Names and steps are office content in Indonesian (what residents and staff read);
each office edits its own copy in admin.
"""

POLICE_REPORT_DAYS = 14

STANDARD_LANES = [
    ("A", "Layanan KK dan umum"),
    ("B", "Cek biometrik"),
    ("C", "Perubahan biodata"),
]

KK = ("KK", "Kartu Keluarga (KK) asli", None,
      "KK asli dari rumah. Bila KK hilang atau rusak, ajukan layanan Perubahan KK dulu.")
OLD_KTP = ("KTP_LAMA", "KTP-el lama", None,
           "Bawa KTP-el lama; kartu ini ditarik saat kartu baru diserahkan.")

# A document whose loss changes the service: a lost KTP-el is replaced through the
# lost-card service, whatever the resident came for (the pre-check says so).
LOST_INSTEAD = {"KTP_LAMA": "KTP_HILANG", "KTP_RUSAK": "KTP_HILANG"}

STANDARD_SERVICES = [
    {
        "code": "KTP_BARU",
        "name": "KTP-el baru (pertama kali)",
        "lane": "B",
        "minutes": 20,
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas di loket",
            "Perekaman foto, sidik jari, iris mata dan tanda tangan",
            "Pengiriman data ke server pusat dan pencetakan",
            "Penyerahan KTP-el (ambil di kantor atau diantar ke rumah)",
        ],
        "requirements": [KK],
    },
    {
        "code": "KTP_HILANG",
        "name": "KTP-el hilang",
        "lane": "C",
        "minutes": 15,
        # As Kota Bekasi does: the replacement goes home like any other card, to the
        # holder or a family member with the receipt code, a photo and the place as
        # proof. An office that requires a fingerprint match at hand-over switches
        # "holder must collect in person" on for this service.
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas dan surat kehilangan di loket",
            "Verifikasi sidik jari",
            "Pengiriman data ke server pusat dan pencetakan",
            "Penyerahan KTP-el (ambil sendiri, diwakilkan atau diantar ke rumah)",
        ],
        "requirements": [
            KK,
            ("SURAT_KEHILANGAN", "Surat keterangan kehilangan dari Kepolisian",
             POLICE_REPORT_DAYS,
             ("Minta di Polsek atau Polres terdekat dengan membawa KK. Surat berlaku 14 hari "
              "sejak diterbitkan; bila sudah lewat, minta surat baru sebelum datang.")),
        ],
    },
    {
        "code": "KTP_RUSAK",
        "name": "KTP-el rusak",
        "lane": "C",
        "minutes": 15,
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas dan penyerahan KTP-el yang rusak",
            "Pengiriman data ke server pusat dan pencetakan",
            "Penyerahan KTP-el",
        ],
        "requirements": [
            KK,
            ("KTP_RUSAK", "KTP-el yang rusak", None, "Bawa kartu yang rusak, sekecil apa pun."),
        ],
    },
    {
        "code": "KTP_UBAH_DATA",
        "name": "Perubahan data KTP-el",
        "lane": "C",
        "minutes": 25,
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas di loket",
            "Perubahan biodata",
            "Pengiriman data ke server pusat dan pencetakan",
            "Penyerahan KTP-el",
        ],
        "requirements": [
            ("KK_BARU", "KK yang sudah memuat data baru", None,
             "Data di KK harus sudah diperbarui; bila belum, ajukan Perubahan KK dulu."),
            OLD_KTP,
            ("DOK_PENDUKUNG",
             "Dokumen pendukung perubahan (akta, ijazah atau surat keterangan)", None,
             "Asli dokumen yang membuktikan data baru, misalnya akta perkawinan."),
        ],
    },
    {
        "code": "KTP_TTD_FOTO",
        "name": "Perubahan tanda tangan atau foto KTP-el",
        "lane": "C",
        "minutes": 15,
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas di loket",
            "Perekaman ulang tanda tangan atau foto",
            "Pengiriman data ke server pusat dan pencetakan",
            "Penyerahan KTP-el",
        ],
        "requirements": [KK, OLD_KTP],
    },
    {
        "code": "KTP_CETAK_ULANG",
        "name": "Cetak ulang KTP-el",
        "lane": "A",
        "minutes": 10,
        "home_delivery": True,
        "holder_in_person": False,
        "produces_card": True,
        "steps": [
            "Verifikasi berkas di loket",
            "Pengiriman permintaan cetak ke server pusat",
            "Penyerahan KTP-el",
        ],
        "requirements": [KK, OLD_KTP],
    },
    {
        "code": "KK_UBAH",
        "name": "Perubahan Kartu Keluarga (KK)",
        "lane": "A",
        "minutes": 20,
        "home_delivery": False,
        "holder_in_person": False,
        "produces_card": False,
        "steps": [
            "Verifikasi berkas di loket",
            "Perubahan data keluarga",
            "Penerbitan KK baru (dicetak sendiri atau dikirim lewat e-mail)",
        ],
        "requirements": [
            KK,
            ("DOK_PERISTIWA",
             "Dokumen peristiwa (akta kelahiran, perkawinan, kematian atau surat pindah)", None,
             "Asli dokumen peristiwa yang mengubah susunan keluarga."),
        ],
    },
]
