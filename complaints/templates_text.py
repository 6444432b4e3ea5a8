"""The standard response templates each office starts with. Office content, written in
Indonesian as the office publishes it (not translated); offices edit them in admin.
{reference}, {name}, {office} and {date} are filled in."""

STANDARD_TEMPLATES = [
    ("queue_fairness", "Urutan antrean",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Setiap lajur layanan di "
     "{office} memiliki antrean sendiri: nomor yang dipanggil berasal dari lajur lain "
     "dengan nomor antreannya sendiri, bukan warga tanpa nomor. Papan antrean dan aplikasi "
     "e-Open kini menampilkan setiap lajur secara terpisah beserta alasan pemanggilan. "
     "Kronologi lengkap kami sampaikan bersama tanggapan ini.")),
    ("waiting_time", "Waktu tunggu",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Kami mohon maaf atas waktu "
     "tunggu yang Anda alami. Kami telah memeriksa catatan antrean dan menyampaikan "
     "kronologi serta langkah perbaikan yang kami ambil.")),
    ("staff_conduct", "Sikap petugas",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Kami mohon maaf atas "
     "pelayanan yang tidak berkenan. Laporan ini telah kami tindak lanjuti secara internal "
     "sesuai ketentuan kepegawaian.")),
    ("requirements", "Persyaratan dokumen",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Persyaratan setiap layanan "
     "beserta masa berlakunya kini diperiksa saat pemesanan di aplikasi e-Open, sehingga "
     "kekurangan dokumen diketahui sebelum datang ke kantor.")),
    ("central_outage", "Gangguan jaringan pusat",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Pada hari kunjungan Anda "
     "jaringan {office} ke server pusat Kemendagri terputus. Data Anda tidak hilang dan "
     "dikirim otomatis setelah jaringan pulih; Anda tidak perlu mendaftar ulang.")),
    ("delivery", "Pengantaran KTP-el",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Pengantaran KTP-el "
     "dilakukan pada hari kerja; penerima, hubungannya dengan pemilik KTP-el, kode tanda "
     "terima, foto dan lokasi serah terima tercatat.")),
    ("other", "Tanggapan umum",
     ("Yth. {name}, terima kasih atas laporan Anda ({reference}). Laporan Anda sedang kami "
     "tangani dan akan kami kabari perkembangannya.")),
]
