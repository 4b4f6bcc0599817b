console.log('link placeholder')
